"""``ramparts.yaml``: the schema of an app and its loading.

The manifest is the user-facing contract (see DESIGN.md): field names here are
binding.  Validation is strict (unknown fields are errors, so a typo such as
``timout:`` is refused rather than silently ignored) and every problem is
reported with the file, the field path and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from ramparts import yamlsafe
from ramparts.errors import ManifestError
from ramparts.patterns.match import PatternError, compile_pattern
from ramparts.scan.exclusions import MAX_PATTERNS as MAX_EXCLUDE_PATTERNS
from ramparts.scan.exclusions import ExcludeSpec, check_pattern

MANIFEST_NAME = "ramparts.yaml"

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
# The owner of secrets that belong to no app (see ramparts.secrets.store); never an app.
UNASSIGNED_APP = "_unassigned"
RESOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_PATH_SEGMENT_RE = re.compile(r"^(\{[A-Za-z_][A-Za-z0-9_]*\+?\}|[A-Za-z0-9._~!$&'()*+,;=:@%-]+)$")
_HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_MEMORY_RE = re.compile(r"^\s*(\d+)\s*(Ki|Mi|Gi|K|M|G)?\s*$")


def parse_duration(value: Any) -> float:
    """``5s``, ``300ms``, ``2m``, ``1h`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5s, 300ms or 2m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION_RE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 5s, 300ms or 2m")
        number, unit = float(match.group(1)), match.group(2) or "s"
        seconds = number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    else:
        raise ValueError("expected a duration such as 5s, 300ms or 2m")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_memory(value: Any) -> int:
    """``128Mi``, ``1Gi`` or a number of MiB -> MiB."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 128Mi or 1Gi")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _MEMORY_RE.match(value)
        if match:
            number, unit = int(match.group(1)), match.group(2) or "Mi"
            factor = {"Ki": 1 / 1024, "K": 1 / 1024, "Mi": 1, "M": 1, "Gi": 1024, "G": 1024}
            return int(number * factor[unit])
    raise ValueError(f"{value!r} is not a size such as 128Mi or 1Gi")


_RATE_RE = re.compile(r"^\s*([1-9]\d{0,8})\s*/\s*(second|minute|hour|day)\s*\Z")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*(Ki|Mi|Gi|K|M|G|B)?\s*\Z")
RATE_KEYS = ("auto", "api_key", "client", "subject", "ip", "route")
RateKey = Literal["auto", "api_key", "client", "subject", "ip", "route"]


def _waf_mode(value: Any) -> Any:
    """YAML 1.1 reads a bare ``off`` as false: ``waf: off`` means the mode ``"off"``."""
    return "off" if value is False else value


WafMode = Annotated[Literal["block", "detect", "off"], BeforeValidator(_waf_mode)]


def parse_rate(value: Any) -> tuple[int, str]:
    """``100/minute`` -> (100, "minute"); a ValueError naming the value otherwise."""
    match = _RATE_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a rate such as 100/minute (per second|minute|hour|day)")
    return int(match.group(1)), match.group(2)


def parse_size_bytes(value: Any) -> int:
    """``64Ki``, ``1Mi``, ``512B`` or a number of bytes -> bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 64Ki or 1Mi")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a size such as 64Ki or 1Mi")
    factor = {"B": 1, "Ki": 1 << 10, "K": 1 << 10, "Mi": 1 << 20, "M": 1 << 20}
    factor.update({"Gi": 1 << 30, "G": 1 << 30})
    return int(match.group(1)) * factor[match.group(2) or "B"]


Duration = Annotated[float, BeforeValidator(parse_duration)]
SizeBytes = Annotated[int, BeforeValidator(parse_size_bytes)]
Memory = Annotated[int, BeforeValidator(parse_memory)]

PAYLOAD_VERSIONS = ("1.0", "2.0")
DEFAULT_PAYLOAD = "2.0"


def _payload_version(value: Any) -> Any:
    """YAML reads ``payload: 1.0`` as a number; it means the same as ``"1.0"``."""
    if isinstance(value, float):
        value = f"{value:.1f}"
    if isinstance(value, str) and value not in PAYLOAD_VERSIONS:
        raise ValueError(f'{value!r} is not a payload format version (use "1.0" or "2.0")')
    return value


# API Gateway's Lambda proxy payload formats: "1.0" (REST APIs), "2.0" (HTTP APIs).
PayloadVersion = Annotated[Literal["1.0", "2.0"], BeforeValidator(_payload_version)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _check_resource_name(value: str, what: str) -> str:
    if not RESOURCE_NAME_RE.match(value):
        raise ValueError(
            f"{what} {value!r} must start with a letter or digit and use only "
            "letters, digits, '.', '_' and '-' (at most 128 characters)"
        )
    return value


class _Delivery(_Model):
    """Retry settings shared by every asynchronous trigger."""

    retries: int = Field(default=2, ge=0, le=100)
    backoff: Duration = 1.0
    dead_letter: str | None = None

    @field_validator("dead_letter")
    @classmethod
    def _dead_letter_name(cls, v: str | None) -> str | None:
        return None if v is None else _check_resource_name(v, "dead-letter topic")


class HttpTrigger(_Model):
    method: str
    path: str
    auth: Literal["api_key", "jwt", "oauth2", "none"] | None = None
    scopes: list[str] = Field(default_factory=list)
    claims: dict[str, str | list[str]] = Field(default_factory=dict)  # required claim values
    # ``100/minute``, or several limits that all apply (``["10/second", "1000/hour"]``)
    rate: str | list[str] | None = None
    # Whose requests one limit counts: the authenticated principal on private routes and
    # the source address on public ones (``auto``), or one of them explicitly.
    rate_key: RateKey = "auto"
    waf: WafMode | None = None  # this route's WAF mode; None: the app's ``waf.mode``
    schema_: str | None = Field(default=None, alias="schema")
    # None until the manifest's defaults are applied (then "1.0" or "2.0"); a version
    # stored before this field existed has None, which means "2.0".
    payload: PayloadVersion | None = None

    @property
    def rest_payload(self) -> bool:
        """Whether this route sends API Gateway REST (payload 1.0) events."""
        return self.payload == "1.0"

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        upper = v.upper()
        if upper not in _HTTP_METHODS:
            raise ValueError(f"{v!r} is not one of {', '.join(sorted(_HTTP_METHODS))}")
        return upper

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return validate_route_path(v)

    @model_validator(mode="after")
    def _public_has_no_requirements(self) -> HttpTrigger:
        if self.auth == "none" and (self.scopes or self.claims):
            raise ValueError("a public route (auth: none) cannot require scopes or claims")
        return self

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: str | list[str] | None) -> str | list[str] | None:
        if v is None:
            return v
        rates = [v] if isinstance(v, str) else v
        if not rates or len(rates) > 5:
            raise ValueError("rate takes one limit or a list of one to five limits")
        for rate in rates:
            parse_rate(rate)
        return v

    @property
    def rates(self) -> list[str]:
        """The route's limits as a list (empty: none declared)."""
        if self.rate is None:
            return []
        return [self.rate] if isinstance(self.rate, str) else list(self.rate)


class _Batching(_Delivery):
    """Event-source-mapping options of the queued triggers that carry records.

    ``batch_size`` records (at most) go to one invocation; ``batch_window``
    waits that long for a batch to fill; ``filters`` drop records that match
    none of the patterns (acked, never invoked); with
    ``report_batch_item_failures`` a handler's ``batchItemFailures`` retries
    just the records it names.  The defaults are one record per invocation.
    """

    batch_size: int = Field(default=1, ge=1, le=1000)
    batch_window: Duration = Field(default=0.0, le=300.0)
    filters: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    report_batch_item_failures: bool = False

    @field_validator("filters")
    @classmethod
    def _filters(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, pattern in enumerate(v):
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                raise ValueError(f"filter {i}: {exc}") from None
        return v


class TopicTrigger(_Batching):
    name: str
    schema_: str | None = Field(default=None, alias="schema")
    # The event the handler receives: SQS records (a queue's consumer) or SNS records
    # (Records[].Sns, a function subscribed to an SNS topic).
    shape: Literal["sqs", "sns"] = "sqs"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_resource_name(v, "topic")


class ScheduleTrigger(_Delivery):
    # A five-field cron line, or EventBridge's rate(...) / cron(...) forms (UTC).
    cron: str

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from ramparts.events.cron import ScheduleError, parse_schedule

        try:
            parse_schedule(v)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return v


class ObjectTrigger(_Delivery):
    bucket: str
    events: list[Literal["created", "deleted"]] = Field(default_factory=lambda: ["created"])
    prefix: str = ""
    suffix: str = ""

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        return _check_resource_name(v, "bucket")


class TableTrigger(_Batching):
    name: str
    events: list[Literal["insert", "modify", "remove"]] = Field(
        default_factory=lambda: ["insert", "modify", "remove"]
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_resource_name(v, "table")


class WebhookTrigger(_Delivery):
    path: str
    scheme: Literal["stripe", "github", "slack", "standard"]
    secret: str
    tolerance: Duration = 300.0

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        path = validate_route_path(v)
        if "{" in path:
            raise ValueError("webhook paths cannot have parameters")
        return path

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        return _check_resource_name(v, "secret name")


TRIGGER_KINDS = ("http", "topic", "schedule", "object", "table", "webhook")


class Trigger(_Model):
    """Exactly one of the trigger kinds, written as ``- http: {...}``."""

    http: HttpTrigger | None = None
    topic: TopicTrigger | None = None
    schedule: ScheduleTrigger | None = None
    object: ObjectTrigger | None = None
    table: TableTrigger | None = None
    webhook: WebhookTrigger | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        set_kinds = [k for k in TRIGGER_KINDS if getattr(self, k) is not None]
        if len(set_kinds) != 1:
            raise ValueError(
                f"a trigger must have exactly one of {', '.join(TRIGGER_KINDS)}"
                + (f" (found {', '.join(set_kinds)})" if set_kinds else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in TRIGGER_KINDS if getattr(self, k) is not None)

    @property
    def config(self) -> Any:
        return getattr(self, self.kind)


class Statement(_Model):
    """A role statement in short form; it maps onto an IAM JSON statement (docs/policies.md)."""

    effect: Literal["allow", "deny"]
    actions: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    sid: str | None = None
    not_actions: list[str] = Field(default_factory=list)
    not_resources: list[str] = Field(default_factory=list)
    conditions: dict[str, dict[str, Any]] = Field(default_factory=dict)  # IAM Condition block

    @model_validator(mode="after")
    def _iam(self) -> Statement:
        from ramparts.policy.roles import check_short_statement

        check_short_statement(
            actions=self.actions,
            resources=self.resources,
            not_actions=self.not_actions,
            not_resources=self.not_resources,
            conditions=self.conditions,
        )
        return self


class Role(_Model):
    """Inline under a function, or shared under ``roles:`` and named by several functions."""

    statements: list[Statement] = Field(default_factory=list)
    policies: list[dict[str, Any]] = Field(default_factory=list)  # IAM identity-policy JSON
    name: str | None = None  # filled in from the shared role a function names

    @field_validator("policies")
    @classmethod
    def _policies(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from ramparts.policy.roles import check_policy_documents

        check_policy_documents(v)
        return v


# Read by the dynamic loader, libc or the interpreter before a program's own code runs
# (glibc's "unsecure" list, which it drops for setuid programs, and the like).
_LOADER_VARIABLES = frozenset(
    {
        "GCONV_PATH",
        "GETCONF_DIR",
        "HOSTALIASES",
        "LOCALDOMAIN",
        "LOCPATH",
        "MALLOC_TRACE",
        "MALLOC_ARENA_MAX",
        "NIS_PATH",
        "NLSPATH",
        "RESOLV_HOST_CONF",
        "RES_OPTIONS",
        "TMPDIR",
        "TZDIR",
        "GLIBC_TUNABLES",
        "BASH_ENV",
        "ENV",
        "PATH",
        "IFS",
    }
)


# Set by the runtime the Lambda way (see ramparts.runtime.environment); never by a manifest.
_RUNTIME_VARIABLES = frozenset({"_HANDLER", "_X_AMZN_TRACE_ID"})


class SecretRef(_Model):
    """``VAR: {secret: NAME}``: the worker's ``VAR`` holds the current value of a secret.

    Resolved when a zygote starts, with the function's own role (the ``secrets:``
    list or a ``secrets:GetSecretValue`` statement), never stored in the version.
    """

    secret: str

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        return _check_resource_name(v, "secret name")


class Limits(_Model):
    """Per-worker process limits (defaults as Lambda's)."""

    processes: int = Field(default=1024, ge=1, le=65536)
    open_files: int = Field(default=1024, ge=16, le=65536)
    file_size: Memory = 512


class AnomalyWindow(_Model):
    """How long a version's behaviour is learned before something new is reported:
    until both the duration has passed and the invocations were seen."""

    duration: Duration = 86400.0
    invocations: int = Field(default=1000, ge=0, le=10_000_000)


class Budget(_Model):
    """Most invocations and compute-seconds per hour and per day (denial of wallet).

    Crossing 80% of any of them raises an alert event; reaching 100% throttles
    (HTTP ``429 budget_exhausted``, events wait in the bus) until the window
    resets or an admin raises the budget (``ramparts budget set``).
    """

    invocations_per_hour: int | None = Field(default=None, ge=1, le=10**12)
    invocations_per_day: int | None = Field(default=None, ge=1, le=10**12)
    compute_seconds_per_hour: int | None = Field(default=None, ge=1, le=10**12)
    compute_seconds_per_day: int | None = Field(default=None, ge=1, le=10**12)

    @model_validator(mode="after")
    def _something(self) -> Budget:
        if not any(getattr(self, name) is not None for name in BUDGET_FIELDS):
            raise ValueError(f"a budget sets at least one of {', '.join(BUDGET_FIELDS)}")
        return self


BUDGET_FIELDS = (
    "invocations_per_hour",
    "invocations_per_day",
    "compute_seconds_per_hour",
    "compute_seconds_per_day",
)


class AppLimits(_Model):
    """``app_limits:`` at the top of ``ramparts.yaml``: caps over all of an app's functions."""

    concurrency: int | None = Field(default=None, ge=1, le=100_000)
    budget: Budget | None = None


class WafExclusion(_Model):
    """Rules that do not apply to one field of one route (a known false positive).

    ``route``: ``"POST /comments"``, ``"/comments"`` (any method) or ``"*"``;
    ``field``: ``$.comment`` (a JSON body field, ``$.items[*].note`` for arrays),
    ``query.NAME``, ``form.NAME``, ``header.NAME``, ``cookie.NAME``, ``path``,
    or left out for the whole request; ``rules``: rule ids or categories
    (``xss``), or left out for every rule.
    """

    route: str = "*"
    field: str | None = None
    rules: list[str] = Field(default_factory=list)


class WafListLimits(_Model):
    """Size limits the WAF applies to an app's requests (tighter than the node's own)."""

    url_bytes: SizeBytes | None = None  # path plus query string
    header_bytes: SizeBytes | None = None  # all header fields together
    body_bytes: SizeBytes | None = None


class WafConfig(_Model):
    """``waf:`` at the top of ``ramparts.yaml``; the default rule set is on, blocking."""

    mode: WafMode = "block"
    threshold: int = Field(default=5, ge=1, le=1000)  # anomaly score at which a request is refused
    rules: list[str] = Field(default_factory=list)  # the app's own rule files (YAML, in the app)
    disable: list[str] = Field(default_factory=list)  # rule ids or categories turned off app-wide
    exclusions: list[WafExclusion] = Field(default_factory=list, max_length=200)
    allow: list[str] = Field(default_factory=list, max_length=1000)  # only these sources (CIDRs)
    deny: list[str] = Field(default_factory=list, max_length=10_000)  # never these (CIDRs)
    methods: list[str] | None = None  # methods the app answers at all; None: the standard ones
    limits: WafListLimits = Field(default_factory=WafListLimits)

    @field_validator("allow", "deny")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for entry in v:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR block") from None
        return v

    @field_validator("methods")
    @classmethod
    def _methods(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        upper = [m.upper() for m in v]
        known = _HTTP_METHODS - {"ANY"}
        for m in upper:
            if m not in known:
                raise ValueError(f"{m!r} is not one of {', '.join(sorted(known))}")
        return upper


class FunctionConfig(_Model):
    handler: str
    timeout: Duration = 30.0
    memory: Memory = 128
    concurrency: int = Field(default=4, ge=1, le=256)
    environment: dict[str, str | SecretRef] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    rotates: list[str] = Field(default_factory=list)  # this function is their rotation hook
    egress: list[str] = Field(default_factory=list)
    runtime_protection: Literal["block", "detect", "off"] = "block"
    allow_exec: list[str] = Field(default_factory=list)  # executables in the code dir
    tmp: Memory = 512  # size of the private /tmp
    limits: Limits = Field(default_factory=Limits)
    anomaly_window: AnomalyWindow = Field(default_factory=AnomalyWindow)
    budget: Budget | None = None  # invocation budget (denial of wallet)
    # inline, or the name of a shared role under roles:
    role: (
        Annotated[
            Annotated[Role, Tag("inline")] | Annotated[str, Tag("named")],
            Discriminator(lambda v: "named" if isinstance(v, str) else "inline"),
        ]
        | None
    ) = None
    triggers: list[Trigger] = Field(default_factory=list)

    @field_validator("role")
    @classmethod
    def _role_name(cls, v: Role | str | None) -> Role | str | None:
        if isinstance(v, str) and not NAME_RE.match(v):
            raise ValueError(f"{v!r} is not a role name (lowercase letters, digits and '-')")
        return v

    @field_validator("handler")
    @classmethod
    def _handler(cls, v: str) -> str:
        parse_handler(v)
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if not 0.05 <= v <= 900:
            raise ValueError("timeout must be between 50ms and 900s")
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: int) -> int:
        if not 16 <= v <= 10240:
            raise ValueError("memory must be between 16Mi and 10Gi")
        return v

    @field_validator("tmp")
    @classmethod
    def _tmp(cls, v: int) -> int:
        if not 16 <= v <= 10240:
            raise ValueError("tmp must be between 16Mi and 10Gi")
        return v

    @field_validator("egress")
    @classmethod
    def _egress(cls, v: list[str]) -> list[str]:
        from ramparts.sandbox.egress import parse_rules

        parse_rules(v)
        return v

    @field_validator("allow_exec")
    @classmethod
    def _allow_exec(cls, v: list[str]) -> list[str]:
        for path in v:
            parts = path.split("/")
            if (
                not path
                or path.startswith("/")
                or any(p in ("", ".", "..") for p in parts)
                or "\x00" in path
            ):
                raise ValueError(
                    f"allow_exec entry {path!r} must be a plain path inside the code dir "
                    "(relative, no '..'), such as bin/ffmpeg"
                )
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: dict[str, str | SecretRef]) -> dict[str, str | SecretRef]:
        for name in v:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise ValueError(f"{name!r} is not a valid environment variable name")
            if name.startswith(("AWS_", "LAMBDA_", "RAMPARTS_")) or name in _RUNTIME_VARIABLES:
                raise ValueError(f"{name!r} is reserved for the runtime")
            if name.upper().startswith(("LD_", "PYTHON")) or name.upper() in _LOADER_VARIABLES:
                raise ValueError(
                    f"{name!r} changes how programs are loaded or run; it cannot be set "
                    "for a function"
                )
            from ramparts.observe.redact import looks_like_secret

            value = v[name]
            if isinstance(value, SecretRef):
                continue
            why = looks_like_secret(name, value)
            if why:
                raise ValueError(
                    f"environment.{name} looks like a secret ({why}): environment values are "
                    "stored and shown in plain text; store it with 'ramparts secrets set', "
                    f"write {name}: {{secret: NAME}} and list NAME under secrets:"
                )
        return v

    def secret_environment(self) -> dict[str, str]:
        """Variable -> secret name, for the ``{secret: NAME}`` entries."""
        return {k: v.secret for k, v in self.environment.items() if isinstance(v, SecretRef)}

    def plain_environment(self) -> dict[str, str]:
        """The literal entries, as stored in the version."""
        return {k: v for k, v in self.environment.items() if isinstance(v, str)}

    @field_validator("secrets", "rotates")
    @classmethod
    def _secrets(cls, v: list[str]) -> list[str]:
        return [_check_resource_name(s, "secret name") for s in v]


_HMAC_ALGS = {"HS256", "HS384", "HS512"}
_PUBLIC_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}


def _check_key_source(value: str, what: str) -> str:
    """An https URL, or a path inside the app (http only to a loopback host)."""
    if "://" in value:
        from ramparts.identity.jwks import check_jwks_url

        try:
            return check_jwks_url(value)
        except Exception as exc:
            raise ValueError(getattr(exc, "message", str(exc))) from None
    parts = Path(value).parts
    if Path(value).is_absolute() or ".." in parts or not parts:
        raise ValueError(f"{what} {value!r} must be an https URL or a path inside the app")
    return value


class JwtIssuer(_Model):
    """A trusted outside issuer.  Algorithms are pinned; HMAC only with a named secret."""

    issuer: str
    audience: str | list[str]
    jwks: str | None = None  # https URL, or a JWKS/PEM file relative to the app dir
    algorithms: list[str] = Field(min_length=1)
    secret: str | None = None  # name of the HS256 shared secret (never the value)
    leeway: Duration = 30.0  # clock skew allowed on exp, nbf and iat
    jwks_min_refresh: Duration = 30.0  # at most one JWKS refresh per this many seconds

    @field_validator("jwks")
    @classmethod
    def _jwks(cls, v: str | None) -> str | None:
        return None if v is None else _check_key_source(v, "jwks")

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        return None if v is None else _check_resource_name(v, "secret name")

    @field_validator("leeway")
    @classmethod
    def _leeway(cls, v: float) -> float:
        if v > 300:
            raise ValueError("leeway is at most 300s")
        return v

    @model_validator(mode="after")
    def _pinning(self) -> JwtIssuer:
        algs = set(self.algorithms)
        unknown = algs - _HMAC_ALGS - _PUBLIC_ALGS
        if unknown:
            raise ValueError(
                f"algorithms {sorted(unknown)} are not accepted; use "
                f"{', '.join(sorted(_PUBLIC_ALGS))} or, with a secret, HS256"
            )
        if algs & _HMAC_ALGS:
            if algs - _HMAC_ALGS:
                raise ValueError("an issuer cannot mix HMAC (HS*) with public-key algorithms")
            if not self.secret:
                raise ValueError("HS* algorithms need an explicitly configured secret")
        else:
            if self.secret:
                raise ValueError("secret is only used with HS* algorithms")
            if not self.jwks:
                raise ValueError("jwks is required (an https URL or a key file in the app)")
        return self


class IntrospectionConfig(_Model):
    """RFC 7662 introspection of opaque tokens at an outside authorization server."""

    url: str
    client_id: str
    client_secret: str  # name of the secret holding the client secret
    audience: str | list[str] | None = None
    cache: Duration = 30.0  # how long a positive answer is reused
    timeout: Duration = 3.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("url must be an https URL")
        return _check_key_source(v, "url")

    @field_validator("client_secret")
    @classmethod
    def _client_secret(cls, v: str) -> str:
        return _check_resource_name(v, "secret name")

    @field_validator("cache")
    @classmethod
    def _cache(cls, v: float) -> float:
        if v > 300:
            raise ValueError("cache is at most 300s")
        return v


class AuthConfig(_Model):
    jwt: list[JwtIssuer] = Field(default_factory=list)
    introspection: IntrospectionConfig | None = None


class HttpDefaults(_Model):
    payload: PayloadVersion = DEFAULT_PAYLOAD


class Defaults(_Model):
    """App-wide defaults for fields a trigger leaves out, e.g. ``http: {payload: "1.0"}``."""

    http: HttpDefaults = Field(default_factory=HttpDefaults)


class KeyAttribute(_Model):
    """One attribute of a table's key: its name and DynamoDB scalar type (S, N or B)."""

    name: str = Field(min_length=1, max_length=255)
    type: Literal["S", "N", "B"] = "S"

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v


class TableSchema(_Model):
    """A KV table's key schema, as DynamoDB's ``KeySchema`` declares it.

    ``tables: {orders: {partition_key: pk, sort_key: sk}}`` at the top of
    ``ramparts.yaml``; ``{name: pk, type: N}`` gives a non-string key.  A table
    without an entry keeps the single string attribute ``key``.
    """

    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None

    @model_validator(mode="after")
    def _distinct(self) -> TableSchema:
        if self.sort_key is not None and self.sort_key.name == self.partition_key.name:
            raise ValueError("sort_key must name another attribute than partition_key")
        return self


class ScanConfig(_Model):
    """``scan:`` at the top of ``ramparts.yaml``: what the deploy gate may leave unread.

    ``exclude`` lists gitignore-style patterns (``vendor/**``, ``*.csv``) of
    shipped files the gate does not scan; every file so excluded is listed in
    the gate's output and the deploy's audit event.
    """

    exclude: list[Annotated[str, AfterValidator(check_pattern)]] = Field(
        default_factory=list, max_length=MAX_EXCLUDE_PATTERNS
    )


class Manifest(_Model):
    app: str
    defaults: Defaults = Field(default_factory=Defaults)
    tables: dict[str, TableSchema] = Field(default_factory=dict)  # key schemas by table
    auth: AuthConfig | None = None
    roles: dict[str, Role] = Field(default_factory=dict)  # shared roles, named by functions
    functions: dict[str, FunctionConfig] = Field(min_length=1)
    waf: WafConfig = Field(default_factory=WafConfig)
    app_limits: AppLimits | None = None
    scan: ScanConfig = Field(default_factory=ScanConfig)

    def app_config(self) -> dict[str, Any] | None:
        """The app-wide sections a version carries (``waf:``, ``app_limits:``), as stored.

        None when the manifest sets neither, so versions of apps that do not use
        them keep the ids they had before these sections existed.
        """
        present = {"waf", "app_limits"} & self.model_fields_set
        if not present:
            return None
        return self.model_dump(mode="json", by_alias=True, include=present, exclude_none=True)

    @field_validator("app")
    @classmethod
    def _app(cls, v: str) -> str:
        if v == UNASSIGNED_APP:
            raise ValueError(
                f"{UNASSIGNED_APP!r} is reserved for secrets that belong to no app; "
                "choose another app name"
            )
        if not NAME_RE.match(v):
            raise ValueError(
                "app names use lowercase letters, digits and '-' (at most 63 characters)"
            )
        return v

    @model_validator(mode="after")
    def _apply_defaults(self) -> Manifest:
        # Written into each function's own config, so a version carries the event
        # shape it was deployed with rather than depending on the app's defaults.
        payload = self.defaults.http.payload
        for name, fn in list(self.functions.items()):
            if not any(t.http is not None and t.http.payload is None for t in fn.triggers):
                continue
            triggers = [
                t.model_copy(update={"http": t.http.model_copy(update={"payload": payload})})
                if t.http is not None and t.http.payload is None
                else t
                for t in fn.triggers
            ]
            self.functions[name] = fn.model_copy(update={"triggers": triggers})
        return self

    @model_validator(mode="after")
    def _auth_methods_configured(self) -> Manifest:
        # A route that names a method the app cannot perform would refuse everyone:
        # say so at deploy time rather than with a 401 at run time.
        has_jwt = bool(self.auth and self.auth.jwt)
        for name, fn in self.functions.items():
            for trig in fn.triggers:
                if trig.http is not None and trig.http.auth == "jwt" and not has_jwt:
                    raise ValueError(
                        f"functions.{name}: route {trig.http.method} {trig.http.path} uses "
                        "auth: jwt but auth.jwt configures no issuer"
                    )
        return self

    @field_validator("tables")
    @classmethod
    def _table_names(cls, v: dict[str, TableSchema]) -> dict[str, TableSchema]:
        for name in v:
            _check_resource_name(name, "table name")
        return v

    @field_validator("functions")
    @classmethod
    def _function_names(cls, v: dict[str, FunctionConfig]) -> dict[str, FunctionConfig]:
        for name in v:
            if not NAME_RE.match(name):
                raise ValueError(
                    f"function name {name!r} must use lowercase letters, digits and '-' "
                    "(at most 63 characters)"
                )
        return v


def validate_route_path(path: str) -> str:
    if not path.startswith("/") or len(path) > 512:
        raise ValueError("a path must start with '/' and be at most 512 characters")
    if path == "/_ramparts" or path.startswith("/_ramparts/"):
        raise ValueError(f"{path!r}: paths under /_ramparts/ are reserved for the node")
    segments = [s for s in path.split("/")[1:]]
    if path != "/":
        names: set[str] = set()
        for i, segment in enumerate(segments):
            if not segment or not _PATH_SEGMENT_RE.match(segment):
                raise ValueError(f"{path!r} has an invalid segment {segment!r}")
            if segment.startswith("{"):
                name = segment.strip("{}+")
                if name in names:
                    raise ValueError(f"{path!r} repeats the parameter {name!r}")
                names.add(name)
                if segment.endswith("+}") and i != len(segments) - 1:
                    raise ValueError("a greedy {name+} parameter must be the last segment")
    return path


def parse_handler(handler: str) -> tuple[str, str]:
    """Split a handler name into (module path or file, function name).

    ``orders/create.py:handler`` -> (``orders/create.py``, ``handler``);
    Lambda's ``orders.create.handler`` and ``orders/create.handler`` ->
    (``orders/create.py``, ``handler``).  The rules are the zygote's (which
    imports it), so what passes here also loads there.
    """
    from ramparts.runtime.zygote import HandlerLoadError
    from ramparts.runtime.zygote import parse_handler as runtime_parse

    try:
        _, func, file = runtime_parse(handler)
    except HandlerLoadError as exc:
        raise ValueError(exc.message) from None
    if not func.isidentifier():
        raise ValueError(f"{handler!r}: {func!r} is not a valid function name")
    parts = Path(file).parts
    if Path(file).is_absolute() or ".." in parts or not parts:
        raise ValueError(f"{handler!r} must be a path inside the app directory")
    return file, func


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in TRIGGER_KINDS and out.endswith("]") and "triggers" in out:
            out += f".{part}"
        else:
            out += f".{part}" if out else str(part)
    # pydantic names tagged-union branches in the path; drop internal ones
    out = out.replace(".role.inline", ".role").replace(".role.named", ".role")
    return out.replace(".function-after[_exactly_one()]", "")


def parse_manifest(data: Any, file: str = MANIFEST_NAME) -> Manifest:
    """Validate already-parsed YAML; raise ``ManifestError`` with field paths."""
    if not isinstance(data, dict):
        raise ManifestError(file, [("", "the manifest must be a mapping")])
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            where = _loc(tuple(err["loc"]))
            # a policy error carries the path inside the policy: join it to the manifest path
            inner = getattr((err.get("ctx") or {}).get("error"), "policy_path", None)
            if inner is not None:
                msg = (err.get("ctx") or {})["error"].reason
                where = f"{where}{inner}" if inner.startswith("[") else f"{where}.{inner}"
            problems.append((where, msg))
        raise ManifestError(file, problems) from None
    problems = resolve_roles(manifest) + _unexcludable(manifest)
    if problems:
        raise ManifestError(file, problems)
    return manifest


def _unexcludable(manifest: Manifest) -> list[tuple[str, str]]:
    """``scan.exclude`` patterns that would leave what runs unscanned.

    The manifest, each handler file and the requirements files the node
    installs from (next to a handler, or at the top) are always scanned.
    """
    spec = ExcludeSpec(manifest.scan.exclude)
    kept = {MANIFEST_NAME: "the manifest", "requirements.txt": "the requirements file"}
    for name, fn in manifest.functions.items():
        file, _ = parse_handler(fn.handler)
        kept.setdefault(file, f"the handler file of function {name}")
        near = (Path(file).parent / "requirements.txt").as_posix()
        kept.setdefault(near, f"the requirements file of function {name}")
    problems = []
    for rel, what in kept.items():
        pattern = spec.match(rel)
        if pattern is not None:
            i = manifest.scan.exclude.index(pattern)
            problems.append((f"scan.exclude[{i}]", f"{pattern!r} would exclude {what} "
                             f"({rel}), which is always scanned"))
    return problems


def resolve_roles(manifest: Manifest) -> list[tuple[str, str]]:
    """Put each shared role a function names in its place, and compile every role once.

    The resolved role becomes part of the function's config, so a version
    (content-addressed) carries the exact role it runs with.  Returns
    (field path, reason) problems.
    """
    from ramparts.policy.errors import PolicyError
    from ramparts.policy.evaluator import RolePolicy

    problems: list[tuple[str, str]] = []
    for name, fn in list(manifest.functions.items()):
        if isinstance(fn.role, str):
            shared = manifest.roles.get(fn.role)
            if shared is None:
                problems.append(
                    (f"functions.{name}.role", f"unknown role {fn.role!r}: declare it under roles:")
                )
                continue
            fn = fn.model_copy(update={"role": shared.model_copy(update={"name": fn.role})})
            manifest.functions[name] = fn
        try:
            policy = RolePolicy(manifest.app, fn)
        except PolicyError as exc:
            problems.append((f"functions.{name}.role", exc.message))
            continue
        problems.extend(_unreadable_secrets(manifest.app, name, fn, policy))
    return problems


def _unreadable_secrets(
    app: str, name: str, fn: FunctionConfig, policy: Any
) -> list[tuple[str, str]]:
    """``{secret: NAME}`` variables the role can never read, found at deploy time.

    Decidable only for a role whose statements read no request context (no
    conditions, no policy variables); otherwise the check happens when a
    zygote starts, and fails closed there.
    """
    from ramparts.policy.evaluator import resource_arn

    if policy.context_keys:
        return []
    problems = []
    for var, secret in fn.secret_environment().items():
        arn = resource_arn(app, "secret", secret)
        if not policy.decide("secrets:GetSecretValue", arn, {}).allowed:
            problems.append(
                (
                    f"functions.{name}.environment.{var}",
                    f"the function may not read secret {secret!r}: list it under secrets: "
                    f"or allow secrets:GetSecretValue on secret:{secret} in its role",
                )
            )
    return problems


def load_manifest(app_dir: Path, *, display_name: str | None = None) -> Manifest:
    """Load and check ``app_dir/ramparts.yaml``, including the files it names."""
    path = app_dir / MANIFEST_NAME
    shown = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(shown, [("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(shown, [("", f"cannot read: {exc.__class__.__name__}")]) from None
    try:
        data = yamlsafe.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(
            shown, [(where, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
        ) from None
    except RecursionError:
        # PyYAML's scanner and composer recurse once per nesting level.
        raise ManifestError(shown, [("", "invalid YAML: nested too deeply")]) from None
    try:
        manifest = parse_manifest(data, shown)
    except RecursionError:
        raise ManifestError(shown, [("", "nested too deeply")]) from None
    check_app_files(manifest, app_dir, shown)
    return manifest


def check_app_files(manifest: Manifest, app_dir: Path, shown: str) -> None:
    """Cross-field checks: handler and schema files exist, routes do not collide."""
    problems: list[tuple[str, str]] = []
    root = app_dir.resolve()
    routes: dict[tuple[str, str], str] = {}
    for name, fn in manifest.functions.items():
        file, _ = parse_handler(fn.handler)
        target = (root / file).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            problems.append((f"functions.{name}.handler", f"file {file!r} not found in the app"))
        for i, trig in enumerate(fn.triggers):
            where = f"functions.{name}.triggers[{i}].{trig.kind}"
            schema = getattr(trig.config, "schema_", None)
            if schema is not None:
                spath = (root / schema).resolve()
                if not spath.is_relative_to(root) or not spath.is_file():
                    problems.append((f"{where}.schema", f"file {schema!r} not found in the app"))
            if trig.kind in ("http", "webhook"):
                method = trig.http.method if trig.http else "POST"
                shape = route_shape(trig.config.path)
                for key in _route_keys(method, shape):
                    if key in routes:
                        problems.append((f"{where}.path", f"route also declared by {routes[key]}"))
                        break
                routes[(method, shape)] = f"functions.{name}"
    if manifest.auth is not None:
        for i, issuer in enumerate(manifest.auth.jwt):
            if issuer.jwks and "://" not in issuer.jwks:
                kpath = (root / issuer.jwks).resolve()
                if not kpath.is_relative_to(root) or not kpath.is_file():
                    problems.append(
                        (f"auth.jwt[{i}].jwks", f"file {issuer.jwks!r} not found in the app")
                    )
    if problems:
        raise ManifestError(shown, problems)


def route_shape(path: str) -> str:
    """A path with parameter names erased, so /a/{x} and /a/{y} collide."""
    return re.sub(r"\{[^}/]+?(\+?)\}", lambda m: "{+}" if m.group(1) else "{}", path)


def _route_keys(method: str, shape: str) -> list[tuple[str, str]]:
    if method == "ANY":
        return [(m, shape) for m in _HTTP_METHODS]
    return [(method, shape), ("ANY", shape)]
