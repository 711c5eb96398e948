"""One ``AWS::Serverless::Function`` as a Ramparts function.

Handler and ``CodeUri`` become one handler string (``CodeUri: hello_world/``
with ``Handler: app.lambda_handler`` -> ``hello_world/app.lambda_handler``,
Lambda's dir/module form); ``Timeout`` (SAM's default 3 s), ``MemorySize``,
``ReservedConcurrentExecutions``, ``EphemeralStorage``,
``Environment.Variables`` (with ``{{resolve:secretsmanager:NAME...}}`` and
``{{resolve:ssm:...}}`` dynamic references turned into ``{secret: NAME}``
entries the function is allowed to read), ``Events`` and ``Policies``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ramparts.aws.sam.errors import TemplateError, Unresolvable
from ramparts.aws.sam.events import EventContext, convert_events
from ramparts.aws.sam.intrinsics import Resolver
from ramparts.aws.sam.policies import convert_policies

_DYNAMIC_REF = re.compile(r"^\{\{resolve:(secretsmanager|ssm|ssm-secure):(.+)\}\}$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[^:]*:[^:]*:secret:(.+?)(-[A-Za-z0-9]{6})?$"
)
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MAX_CONCURRENCY = 256

# properties with no equivalent, and what to tell the user
UNSUPPORTED_PROPERTIES = {
    "Layers": "layers have no equivalent; put their packages in requirements.txt",
    "VpcConfig": "VPC config has no equivalent; list outbound hosts under egress:",
    "FileSystemConfigs": "EFS mounts have no equivalent",
    "DeadLetterQueue": "asynchronous-invoke dead-letter queues have no equivalent; "
                       "triggers take dead_letter:",
    "EventInvokeConfig": "asynchronous invoke destinations have no equivalent",
    "ProvisionedConcurrencyConfig": "provisioned concurrency has no equivalent",
    "AutoPublishAlias": "use ramparts alias FN NAME VERSION",
    "DeploymentPreference": "use ramparts alias with canary weights",
    "FunctionUrlConfig": "function URLs have no equivalent; declare an http trigger",
    "Role": "an IAM role ARN has no equivalent; the role comes from Policies",
    "PermissionsBoundary": "permission boundaries have no equivalent",
    "CodeSigningConfigArn": "every Ramparts version is signed at deploy",
    "KmsKeyArn": "environment values are stored by the node, encrypted at rest",
    "SnapStart": "no equivalent",
    "RuntimeManagementConfig": "no equivalent",
    "LoggingConfig": "logs go to ramparts logs FN",
}


@dataclass
class FunctionResult:
    name: str
    config: dict[str, Any] | None  # None: skipped (see notes)
    notes: list[str] = field(default_factory=list)
    mapped: list[tuple[str, str]] = field(default_factory=list)  # (what, target)
    sources: dict[str, str] = field(default_factory=dict)  # manifest field -> template field


def _seconds(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unresolvable(f"{what} must be a number")
    try:
        return int(float(value))
    except ValueError:
        raise Unresolvable(f"{what} {value!r} is not a number") from None


def handler_string(code_uri: Any, handler: str) -> str:
    """``("hello_world/", "app.lambda_handler")`` -> ``hello_world/app.lambda_handler``."""
    base = code_uri.strip() if isinstance(code_uri, str) else ""
    base = re.sub(r"^(\./)+", "", base).strip("/")
    if base in ("", "."):
        return handler
    return f"{base}/{handler}"


def secret_name(reference: str) -> tuple[str, str | None] | None:
    """A dynamic reference ``{{resolve:...}}`` -> (Ramparts secret name, JSON key or None).

    ``{{resolve:secretsmanager:ID:SecretString:KEY:STAGE:VERSION}}`` where ID is a
    name or an ARN; ``{{resolve:ssm:/a/b:VERSION}}`` -> secret ``a.b`` (aws-names.md).
    """
    match = _DYNAMIC_REF.match(reference.strip())
    if not match:
        return None
    service, rest = match.groups()
    fields = rest.split(":")
    if service == "secretsmanager":
        if rest.startswith("arn:"):
            arn = _SECRET_ARN.match(":".join(fields[:7]))
            if not arn:
                return None
            name, after = arn.group(1), fields[7:]
        else:
            name, after = fields[0], fields[1:]
        key = after[1] if len(after) > 1 and after[1] else None
        return name.replace("/", "."), key
    return fields[0].lstrip("/").replace("/", "."), None


def convert_function(
    logical_id: str,
    name: str,
    props: dict[str, Any],
    resolver: Resolver,
    ctx: EventContext,
    file: str,
) -> FunctionResult:
    where = f"Resources.{logical_id}"
    result = FunctionResult(name, None)
    notes = result.notes
    if props.get("PackageType") == "Image":
        notes.append(f"{where}: container image functions have no equivalent; skipped")
        return result
    runtime = props.get("Runtime")
    if isinstance(runtime, str) and not runtime.startswith("python"):
        notes.append(f"{where}.Runtime: {runtime} is not Python; skipped")
        return result
    handler = props.get("Handler")
    if handler is None:
        if "InlineCode" in props:
            notes.append(f"{where}.InlineCode: inline code has no equivalent; skipped")
            return result
        raise TemplateError(file, f"{where}.Properties.Handler", "a function needs a Handler")
    try:
        handler = resolver.resolve_str(handler, "Handler")
    except Unresolvable as exc:
        raise TemplateError(file, f"{where}.Properties.Handler", exc.reason) from None
    code_uri = props.get("CodeUri")
    if code_uri is not None and not isinstance(code_uri, str):
        notes.append(f"{where}.CodeUri: code in S3 has no equivalent; the handler is looked "
                     "up in the template's directory")
        code_uri = None
    if isinstance(code_uri, str) and code_uri.startswith("s3://"):
        notes.append(f"{where}.CodeUri: code in S3 has no equivalent; the handler is looked "
                     "up in the template's directory")
        code_uri = None
    if "InlineCode" in props:
        notes.append(f"{where}.InlineCode: inline code has no equivalent; ignored")
    config: dict[str, Any] = {"handler": handler_string(code_uri, handler)}
    result.mapped.append(("Handler", config["handler"]))

    def number(key: str, default: int | None = None) -> int | None:
        if key not in props:
            return default
        try:
            return _seconds(resolver.resolve(props[key]), key)
        except Unresolvable as exc:
            notes.append(f"{where}.{key}: {exc.reason}; default used")
            return default

    timeout = number("Timeout", 3)
    config["timeout"] = f"{max(1, min(int(timeout or 3), 900))}s"
    memory = number("MemorySize", 128)
    config["memory"] = max(128, min(int(memory or 128), 10240))
    reserved = number("ReservedConcurrentExecutions")
    if reserved is not None:
        if reserved < 1:
            notes.append(f"{where}.ReservedConcurrentExecutions: {reserved} (throttled) has no "
                         "equivalent; the default concurrency is used")
        else:
            config["concurrency"] = min(reserved, _MAX_CONCURRENCY)
    storage = props.get("EphemeralStorage")
    if isinstance(storage, dict) and "Size" in storage:
        try:
            config["tmp"] = max(16, min(_seconds(resolver.resolve(storage["Size"]), "Size"),
                                        10240))
        except Unresolvable as exc:
            notes.append(f"{where}.EphemeralStorage: {exc.reason}")
    env, secrets = _environment(props.get("Environment"), resolver, where, notes)
    if env:
        config["environment"] = env
    if secrets:
        config["secrets"] = secrets
    for key, why in UNSUPPORTED_PROPERTIES.items():
        if key in props:
            notes.append(f"{where}.{key}: {why}")
    if "Policies" in props:
        pol = convert_policies(props["Policies"], resolver, f"{where}.Policies")
        notes.extend(pol.notes)
        result.mapped.extend(("policy", m) for m in pol.mapped)
        if pol.statements:
            config["role"] = {"statements": pol.statements}
    ev = convert_events(props.get("Events"), ctx, f"{where}.Events")
    notes.extend(ev.notes)
    result.mapped.extend(ev.mapped)
    if ev.triggers:
        config["triggers"] = ev.triggers
        for i, src in enumerate(ev.sources):
            result.sources[f"functions.{name}.triggers[{i}]"] = src
    result.sources[f"functions.{name}"] = f"{where}.Properties"
    result.sources[f"functions.{name}.handler"] = f"{where}.Properties.Handler"
    result.sources[f"functions.{name}.environment"] = f"{where}.Properties.Environment"
    result.sources[f"functions.{name}.role"] = f"{where}.Properties.Policies"
    result.config = config
    return result


_LAMBDA_ENV_BYTES = 4096  # Lambda's limit for all of a function's variables together


def _environment(
    value: Any, resolver: Resolver, where: str, notes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    from pydantic import ValidationError

    from ramparts.manifest import FunctionConfig

    env: dict[str, Any] = {}
    secrets: list[str] = []
    variables = (value or {}).get("Variables") if isinstance(value, dict) else None
    if not isinstance(variables, dict):
        return env, secrets
    for var, raw in variables.items():
        at = f"{where}.Environment.Variables.{var}"
        try:
            resolved = resolver.resolve(raw)
        except Unresolvable as exc:
            notes.append(f"{at}: {exc.reason}; variable dropped")
            continue
        if isinstance(resolved, bool):
            resolved = "true" if resolved else "false"
        if not isinstance(resolved, str | int | float):
            notes.append(f"{at}: not a string; variable dropped")
            continue
        text = str(resolved)
        if len(var) + len(text) > _LAMBDA_ENV_BYTES:
            notes.append(f"{at}: longer than Lambda's 4 KB environment limit; variable dropped")
            continue
        entry: Any = text
        ref = secret_name(text) if "{{resolve:" in text else None
        if "{{resolve:" in text and ref is None:
            notes.append(f"{at}: a dynamic reference inside a longer value has no "
                         "equivalent; variable dropped")
            continue
        if ref is not None:
            secret, key = ref
            if not _RESOURCE_NAME.match(secret):
                notes.append(f"{at}: secret name {secret!r} is not a Ramparts secret name; "
                             "variable dropped")
                continue
            entry = {"secret": secret}
            if key:
                notes.append(f"{at}: the whole secret {secret} is injected, not its JSON "
                             f"key {key}")
            if secret not in secrets:
                secrets.append(secret)
        # the manifest's own rules for one variable (reserved names, secret-looking values)
        try:
            FunctionConfig.model_validate({"handler": "a.b", "environment": {var: entry}})
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            notes.append(f"{at}: {reason}; variable dropped")
            continue
        env[var] = entry
    return env, secrets
