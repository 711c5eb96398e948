"""Playbooks: which alerts call for which response actions, in what order.

A playbook file (YAML) holds one or more playbooks under ``playbooks:``; an
operator applies it with ``ramparts playbook apply FILE`` (the node validates it
again and keeps it in the state store, so every node runs the same set)::

    playbooks:
      - name: contain-credential-stuffing
        match: {rules: [failed-auth-burst], severity: high}
        stop_on_failure: false
        actions:
          - block_ip: {for: 1h}
          - quarantine: {function: web, requires_approval: true}
          - notify: {webhook: true, email: [oncall@example.com]}

``match`` narrows by detection rule ids, minimum severity, function and app
(all given conditions must hold; an empty ``match`` takes every alert).  Each
action is a one-key mapping; parameters left out come from the alert (its
function, source address, API key or OAuth2 client, found in its evidence).  The
evidence is shaped by whoever caused the alert, so a destructive step
(``EVIDENCE_TARGET``) aimed by it waits for approval unless the playbook names the
target or sets ``target_from_evidence: true``.
Validation names the file and the field (``PlaybookError``) and accepts
nothing it does not know.  This module is pure: the actions themselves run
in ``ramparts.containment``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ramparts.config import parse_duration
from ramparts.errors import ConfigError
from ramparts.manifest import parse_rate
from ramparts.respond.errors import PlaybookError
from ramparts.respond.rules import SEVERITIES, SEVERITY_RANK

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
EMAIL_RE = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}$")
MAX_ACTIONS = 20
MAX_DURATION = 366 * 86400.0

# action -> {parameter: kind}; kinds: function, alias, text, duration, bool, cidr, key,
# client, secret, app, emails
ACTIONS: dict[str, dict[str, str]] = {
    "quarantine": {"function": "function", "reason": "text", "target_from_evidence": "bool"},
    "revoke_key": {"key": "key", "target_from_evidence": "bool"},
    "revoke_client": {"client": "client", "target_from_evidence": "bool"},
    "block_ip": {"address": "cidr", "for": "duration", "reason": "text", "force": "bool"},
    "rotate_secret": {"secret": "secret", "app": "app", "target_from_evidence": "bool"},
    "rollback": {"function": "function", "alias": "alias", "target_from_evidence": "bool"},
    "lower_rate": {"function": "function", "rate": "rate", "target_from_evidence": "bool"},
    "lower_concurrency": {
        "function": "function",
        "concurrency": "count",
        "target_from_evidence": "bool",
    },
    "snapshot_evidence": {"window": "duration"},
    "notify": {"webhook": "bool", "email": "emails", "subject": "text"},
}
REQUIRED = {
    "rotate_secret": ("secret",),
    "lower_rate": ("rate",),
    "lower_concurrency": ("concurrency",),
}
# Actions that take something away; only these may wait for an approval.
DESTRUCTIVE = frozenset(
    {
        "quarantine",
        "revoke_key",
        "revoke_client",
        "block_ip",
        "rotate_secret",
        "rollback",
        "lower_rate",
        "lower_concurrency",
    }
)

# Destructive actions whose default target comes from the alert's evidence, which the
# attacker shapes (the route junk credentials went to, the key id they named): such a
# step waits for approval unless the playbook names the target or opts in explicitly.
EVIDENCE_TARGET = {
    "quarantine": "function",
    "rollback": "function",
    # slowing the function the evidence names is a denial of service the attacker aims
    "lower_rate": "function",
    "lower_concurrency": "function",
    "revoke_key": "key",
    "revoke_client": "client",
    "rotate_secret": "app",
}
WILDCARD = frozenset("*?[]")


@dataclass(frozen=True)
class Action:
    kind: str
    params: dict[str, Any]
    requires_approval: bool = False

    def evidence_gated(self) -> bool:
        """True when the target comes from evidence without the playbook opting in."""
        target = EVIDENCE_TARGET.get(self.kind)
        return (
            target is not None
            and target not in self.params
            and not self.params.get("target_from_evidence", False)
        )


@dataclass(frozen=True)
class Match:
    rules: tuple[str, ...] = ()
    severity: str | None = None
    function: str | None = None
    app: str | None = None


@dataclass(frozen=True)
class Playbook:
    name: str
    match: Match
    actions: tuple[Action, ...]
    stop_on_failure: bool = False
    description: str = ""
    file: str = ""

    def matches(self, alert: dict[str, Any], context: AlertContext) -> bool:
        m = self.match
        if m.rules and alert.get("rule") not in m.rules:
            return False
        if m.severity is not None:
            rank = SEVERITY_RANK.get(str(alert.get("severity")), -1)
            if rank < SEVERITY_RANK[m.severity]:
                return False
        if m.function is not None and context.function != m.function:
            return False
        return m.app is None or context.app == m.app


@dataclass
class AlertContext:
    """What an alert is about, read from its evidence: the targets actions default to."""

    function: str | None = None
    app: str | None = None
    source_ip: str | None = None
    key: str | None = None
    client: str | None = None
    functions: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "app": self.app,
            "source_ip": self.source_ip,
            "key": self.key,
            "client": self.client,
        }


def context_of(records: list[dict[str, Any]]) -> AlertContext:
    """The most common function, address, key and client among an alert's evidence records."""
    counts: dict[str, dict[str, int]] = {k: {} for k in ("function", "app", "ip", "key", "client")}

    def add(what: str, value: Any) -> None:
        if isinstance(value, str) and value:
            counts[what][value] = counts[what].get(value, 0) + 1

    for rec in records:
        detail = _detail(rec.get("detail"))
        add("function", detail.get("function") or rec.get("function"))
        resource = str(rec.get("resource") or "")
        if resource.startswith("function:"):
            add("function", resource.split(":")[1])
        add("app", detail.get("app") or rec.get("app"))
        add("ip", detail.get("source_ip"))
        principal = str(rec.get("principal") or "")
        if principal.startswith("key:"):
            add("key", principal[4:])
        elif principal.startswith("client:"):
            add("client", principal[7:])
        elif principal.startswith("function:") and "/" in principal:
            app, _, fn = principal[9:].partition("/")
            add("app", app)
            add("function", fn)
        elif principal.startswith("function:"):  # the broker's "function:NAME@VERSION"
            add("function", principal[9:].partition("@")[0])

    def top(what: str) -> str | None:
        found = counts[what]
        return max(found, key=lambda v: found[v]) if found else None

    return AlertContext(
        function=top("function"),
        app=top("app"),
        source_ip=top("ip"),
        key=top("key"),
        client=top("client"),
        functions=set(counts["function"]),
    )


def _detail(raw: Any) -> dict[str, Any]:
    """A stored record's detail: a mapping, or its JSON text as the chain stores it."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


class _Check:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, reason: str) -> PlaybookError:
        return PlaybookError(self.file, where, reason)

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{where}.{key}" if where else str(key),
                    f"unknown field (allowed: {', '.join(sorted(allowed))})",
                )
        return value

    def text(self, value: Any, where: str, limit: int = 500) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(where, f"must be text of at most {limit} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise self.fail(where, "must not hold control characters")
        return value

    def name(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise self.fail(where, "must be lower-case letters, digits and '-' (at most 64)")
        return value


def parse_playbooks(text: str, *, file: str) -> list[Playbook]:
    """Every playbook of one file; ``PlaybookError`` names the file and the first bad field."""
    c = _Check(file)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise c.fail(f"line {exc.line}", f"key {exc.key!r} appears twice") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise c.fail(where, "not valid YAML") from None
    root = c.mapping(data, "", {"playbooks"})
    items = root.get("playbooks")
    if not isinstance(items, list) or not items:
        raise c.fail("playbooks", "must be a non-empty list of playbooks")
    out: list[Playbook] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        pb = _playbook(c, item, f"playbooks[{i}]")
        if pb.name in seen:
            raise c.fail(f"playbooks[{i}].name", f"{pb.name!r} appears twice")
        seen.add(pb.name)
        out.append(pb)
    return out


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last one
    silently: a second ``requires_approval: false`` would quietly win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                dup = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: the base constructor refuses it
            if dup:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


def warnings(books: list[Playbook]) -> list[str]:
    """What is valid but risky: an empty ``match`` (every alert runs the playbook) and
    destructive steps aimed by evidence an attacker can shape (they wait for approval)."""
    out: list[str] = []
    for pb in books:
        m = pb.match
        if not (m.rules or m.severity or m.function or m.app):
            out.append(f"{pb.name}: match is empty: the playbook runs for every alert")
        for j, a in enumerate(pb.actions):
            if a.evidence_gated() and not a.requires_approval:
                target = EVIDENCE_TARGET[a.kind]
                out.append(
                    f"{pb.name}: actions[{j}].{a.kind} takes its {target} from the alert's "
                    f"evidence, which the attacker can shape: it waits for approval (name the "
                    f"{target}, or set target_from_evidence: true to run it unattended)"
                )
    return out


def _playbook(c: _Check, item: Any, where: str) -> Playbook:
    data = c.mapping(item, where, {"name", "description", "match", "actions", "stop_on_failure"})
    if "name" not in data:
        raise c.fail(f"{where}.name", "is required")
    name = c.name(data["name"], f"{where}.name")
    m = c.mapping(data.get("match"), f"{where}.match", {"rules", "severity", "function", "app"})
    rules = m.get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str) and r for r in rules):
        raise c.fail(f"{where}.match.rules", "must be a list of detection rule ids")
    severity = m.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise c.fail(f"{where}.match.severity", f"must be one of: {', '.join(SEVERITIES)}")
    match = Match(
        rules=tuple(rules),
        severity=severity,
        function=c.name(m["function"], f"{where}.match.function") if "function" in m else None,
        app=c.name(m["app"], f"{where}.match.app") if "app" in m else None,
    )
    stop = data.get("stop_on_failure", False)
    if not isinstance(stop, bool):
        raise c.fail(f"{where}.stop_on_failure", "must be true or false")
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        raise c.fail(f"{where}.actions", "must be a non-empty list of actions")
    if len(raw_actions) > MAX_ACTIONS:
        raise c.fail(f"{where}.actions", f"at most {MAX_ACTIONS} actions")
    actions = tuple(_action(c, a, f"{where}.actions[{j}]") for j, a in enumerate(raw_actions))
    description = data.get("description", "")
    return Playbook(
        name=name,
        match=match,
        actions=actions,
        stop_on_failure=stop,
        description=c.text(description, f"{where}.description", 2000) if description else "",
        file=file_name(c.file),
    )


def file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1][:300]


def _action(c: _Check, item: Any, where: str) -> Action:
    if not isinstance(item, dict) or len(item) != 1:
        raise c.fail(where, f"must be one action: {', '.join(ACTIONS)}")
    ((kind, raw),) = item.items()
    if kind not in ACTIONS:
        raise c.fail(f"{where}.{kind}", f"unknown action (known: {', '.join(ACTIONS)})")
    here = f"{where}.{kind}"
    params = c.mapping(raw, here, {*ACTIONS[kind], "requires_approval"})
    approval = params.get("requires_approval", False)
    if not isinstance(approval, bool):
        raise c.fail(f"{here}.requires_approval", "must be true or false")
    if approval and kind not in DESTRUCTIVE:
        raise c.fail(f"{here}.requires_approval", f"{kind} changes nothing: it needs no approval")
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "requires_approval":
            continue
        out[key] = _param(c, ACTIONS[kind][key], value, f"{here}.{key}")
    for key in REQUIRED.get(kind, ()):
        if key not in out:
            raise c.fail(f"{here}.{key}", "is required")
    return Action(kind, out, approval)


def _param(c: _Check, kind: str, value: Any, where: str) -> Any:
    if kind in ("function", "alias", "app"):
        return c.name(value, where)
    if kind == "text":
        return c.text(value, where)
    if kind == "bool":
        if not isinstance(value, bool):
            raise c.fail(where, "must be true or false")
        return value
    if kind == "duration":
        try:
            seconds = parse_duration(str(value), name=where)
        except ConfigError:
            raise c.fail(where, "must be a duration such as 30m, 1h or 7d") from None
        if not 1 <= seconds <= MAX_DURATION:
            raise c.fail(where, "must be from 1s to 366d")
        return seconds
    if kind == "cidr":
        try:
            return str(ipaddress.ip_network(str(value), strict=True))
        except ValueError as exc:
            raise c.fail(where, f"not an IP address or CIDR block: {exc}") from None
    if kind == "rate":
        try:
            amount, unit = parse_rate(value)
        except ValueError as exc:
            raise c.fail(where, str(exc)) from None
        return f"{amount}/{unit}"
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
            raise c.fail(where, "must be a number from 1 to 10000")
        return value
    if kind in ("key", "client"):
        text = c.text(value, where, 200)
        if not text.strip() or WILDCARD & set(text):
            raise c.fail(where, "must name one key or client exactly (no wildcards)")
        return text
    if kind == "secret":
        if not isinstance(value, str) or not SECRET_RE.match(value):
            raise c.fail(where, "must be a secret name")
        return value
    if kind == "emails":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or len(values) > 20:
            raise c.fail(where, "must be one address or a list of at most 20")
        for v in values:
            if not isinstance(v, str) or not EMAIL_RE.match(v):
                raise c.fail(where, f"{v!r} is not an email address")
        return list(values)
    raise c.fail(where, "unsupported parameter")  # pragma: no cover - ACTIONS lists the kinds


# What each targeted action acts on: its parameter, the AlertContext field that fills it
# when the playbook leaves it out, and what to call it when the alert names none.
_TARGETS: dict[str, tuple[str, str, str]] = {
    "quarantine": ("function", "function", "function"),
    "rollback": ("function", "function", "function"),
    "lower_rate": ("function", "function", "function"),
    "lower_concurrency": ("function", "function", "function"),
    "revoke_key": ("key", "key", "API key"),
    "revoke_client": ("client", "client", "OAuth2 client"),
    "block_ip": ("address", "source_ip", "source address"),
    "rotate_secret": ("app", "app", "app"),
}


def plan(playbook: Playbook, alert: dict[str, Any], context: AlertContext) -> list[dict[str, Any]]:
    """The steps ``playbook`` would take for ``alert``: each action with its resolved target.

    A step whose target the alert does not name (no address for ``block_ip``) is
    planned with ``error`` set and never waits for approval: running it records a
    ``missing_target`` failure at once, never a guess, and later steps still run.
    """
    steps = []
    for i, action in enumerate(playbook.actions):
        params = dict(action.params)
        error = None
        target = _TARGETS.get(action.kind)
        if target is not None:
            param, field, noun = target
            params.setdefault(param, getattr(context, field))
            if params[param] is None:
                error = f"the alert names no {noun}; set {param}:"
        elif action.kind == "snapshot_evidence":
            params.setdefault("window", 3600.0)
        # A step with no target cannot run whoever approves it: it fails at once
        # (missing_target) instead of waiting, so the steps after it are not held back.
        gated = action.evidence_gated() and not action.requires_approval and not error
        params.pop("target_from_evidence", None)
        steps.append(
            {
                "step": i + 1,
                "playbook": playbook.name,
                "action": action.kind,
                "params": params,
                "requires_approval": (action.requires_approval and not error) or gated,
                **({"approval_reason": "target_from_evidence"} if gated else {}),
                **({"error": error} if error else {}),
            }
        )
    return steps
