"""``ramparts import``: a SAM template in, a ``ramparts.yaml`` (text) and a report out.

The steps: load the template (``loader``), name its data resources
(``resources``), make a resolver for its intrinsics (``intrinsics``), key
schemas for its tables (``tables``), one Ramparts function per
``AWS::Serverless::Function`` with ``Globals`` merged in (``functions``,
``events``, ``policies``).  The result is checked with the manifest's own
validation before anything is written: an import never writes a manifest
that a deploy would refuse as invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ramparts.aws.accounts import account_id
from ramparts.aws.sam.connectors import connector_statements
from ramparts.aws.sam.errors import TemplateError, Unresolvable
from ramparts.aws.sam.events import EventContext
from ramparts.aws.sam.functions import convert_function
from ramparts.aws.sam.intrinsics import Resolver
from ramparts.aws.sam.loader import load_template
from ramparts.aws.sam.report import Report
from ramparts.aws.sam.resources import (
    FUNCTION_TYPE,
    NAMED_TYPES,
    Catalog,
    Resource,
    function_name,
    valid_name,
)
from ramparts.aws.sam.schedules import schedule_triggers
from ramparts.aws.sam.tables import table_schema
from ramparts.aws.sam.template_globals import function_properties
from ramparts.errors import ManifestError
from ramparts.manifest import MANIFEST_NAME, NAME_RE, check_app_files, parse_manifest

DEFAULT_REGION = "us-east-1"

# Resource types that need no entry of their own: their meaning is carried elsewhere.
_CARRIED = {
    "AWS::Serverless::Api": "routes come from the functions' Api events",
    "AWS::Serverless::HttpApi": "routes come from the functions' HttpApi events",
    "AWS::Lambda::Permission": "who may invoke is decided by triggers and roles",
    "AWS::Logs::LogGroup": "logs are kept by the node (ramparts logs FN)",
}
_NO_EQUIVALENT = {
    "AWS::Serverless::StateMachine": "Step Functions state machines",
    "AWS::StepFunctions::StateMachine": "Step Functions state machines",
    "AWS::Serverless::LayerVersion": "layers (put their packages in requirements.txt)",
    "AWS::Lambda::LayerVersion": "layers (put their packages in requirements.txt)",
    "AWS::Serverless::Application": "nested applications",
    "AWS::Serverless::GraphQLApi": "AppSync APIs",
    "AWS::IAM::Role": "IAM roles (roles come from each function's Policies)",
    "AWS::IAM::Policy": "IAM policies (roles come from each function's Policies)",
}


@dataclass
class Imported:
    app: str
    text: str  # the ramparts.yaml to write, comments included
    report: Report
    target: Path


def app_name(template: Path, explicit: str | None) -> str:
    """``--app`` as given, else the template's directory name made a valid app name."""
    if explicit is not None:
        if not NAME_RE.match(explicit):
            raise TemplateError(str(template), "--app", f"{explicit!r} is not an app name "
                                "(lowercase letters, digits and '-', at most 63 characters)")
        return explicit
    raw = template.resolve().parent.name
    name = re.sub(r"[^a-z0-9-]+", "-", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", raw).lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")[:63].strip("-")
    if not NAME_RE.match(name):
        raise TemplateError(str(template), "--app", f"the directory name {raw!r} is not an "
                            "app name; give one with --app")
    return name


def import_template(path: Path, app: str | None = None,
                    region: str = DEFAULT_REGION) -> Imported:
    """The manifest text and report for the template at ``path``; ``TemplateError`` if not."""
    try:
        return _import(path, app, region)
    except TemplateError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # a shape the converters did not foresee: still a message naming the file, never a
        # traceback (the field is unknown here)
        raise TemplateError(str(path), "", f"malformed template ({exc.__class__.__name__}); "
                            "check the types of its properties against the SAM "
                            "specification") from None
    except RecursionError:
        raise TemplateError(str(path), "", "invalid template: nested too deeply") from None


def _import(path: Path, app: str | None, region: str) -> Imported:
    file = str(path)
    template = load_template(path)
    name = app_name(path, app)
    report = Report(file)
    catalog = Catalog(name, account_id(name), region)
    resolver = Resolver.from_template(template, catalog)
    resources: dict[str, Any] = template["Resources"]

    live = {lid: res for lid, res in resources.items() if _included(lid, res, resolver, report)}
    _name_resources(live, catalog, resolver, report)

    manifest: dict[str, Any] = {"app": name}
    tables: dict[str, Any] = {}
    for res in catalog.by_kind("table"):
        try:
            tables[res.name] = table_schema(res, resolver, report.gaps)
            report.map(res.logical_id, "table", f"tables.{res.name}")
        except Unresolvable as exc:
            raise TemplateError(file, f"Resources.{res.logical_id}", exc.reason) from None
    if tables:
        manifest["tables"] = tables

    grants = _connector_grants(live, catalog, report)
    scheduled = schedule_triggers(live, resolver, report.gaps)
    ctx = EventContext(template, resolver, catalog)
    functions: dict[str, Any] = {}
    sources: dict[str, str] = {}  # manifest field prefix -> the template field it came from
    for lid, res in live.items():
        if res["Type"] != FUNCTION_TYPE:
            continue
        props = function_properties(template, lid)
        fn_name = catalog.resources[lid].name
        if fn_name in functions:
            raise TemplateError(file, f"Resources.{lid}", f"function name {fn_name!r} is "
                                "taken by another function of the template")
        if not isinstance(res.get("Properties") or {}, dict):
            raise TemplateError(file, f"Resources.{lid}.Properties", "must be a mapping")
        result = convert_function(lid, fn_name, props, resolver, ctx, file)
        for g in result.notes:
            report.gap(g)
        if result.config is None:
            continue
        for source, trigger in scheduled.get(lid, []):
            result.config.setdefault("triggers", []).append(trigger)
            report.map(f"  {source}", "", f"schedule {trigger['schedule']['cron']}")
        if grants.get(lid):
            role = result.config.setdefault("role", {"statements": []})
            role["statements"].extend(grants[lid])
        functions[fn_name] = _ordered(result.config)
        sources.update(result.sources)
        report.map(lid, "function", f"functions.{fn_name}")
        for what, target in result.mapped:
            report.map(f"  {what}", "", target)
    if not functions:
        skipped = [g for g in report.gaps if g.endswith("skipped")]
        why = f" ({'; '.join(skipped[:3])})" if skipped else ""
        raise TemplateError(file, "Resources", "no AWS::Serverless::Function with a Python "
                            f"runtime and a Handler to import{why}")
    manifest["functions"] = functions
    for kind in ("queue", "topic", "bucket", "bus", "secret", "parameter", "key", "alias"):
        for res in catalog.by_kind(kind):
            report.map(res.logical_id, kind, res.name)

    shown = str(path.parent / MANIFEST_NAME)
    try:
        parsed = parse_manifest(manifest, shown)
    except ManifestError as exc:
        where, reason = exc.problems[0]
        raise TemplateError(file, _template_field(where, sources),
                            f"cannot be expressed in ramparts.yaml ({where}): {reason}") from None
    try:
        check_app_files(parsed, path.parent, shown)
    except ManifestError as exc:
        for where, reason in exc.problems:
            report.gap(f"{where}: {reason} (deploy will refuse this until it is fixed)")
    _queues_without_consumer(catalog, functions, report)
    _secrets_to_store(catalog, functions, report)
    if template.get("Outputs"):
        report.gap("Outputs: stack outputs have no equivalent (ramparts functions lists "
                   "the deployed app)")

    body = yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=100)
    text = report.comment_header(name) + body
    return Imported(name, text, report, path.parent / MANIFEST_NAME)


_FIELD_ORDER = ("handler", "timeout", "memory", "concurrency", "tmp", "environment", "secrets",
                "role", "triggers")


def _ordered(config: dict[str, Any]) -> dict[str, Any]:
    """A function's fields in the order DESIGN.md writes them, whatever added them last."""
    return {k: config[k] for k in sorted(config, key=lambda k: (
        _FIELD_ORDER.index(k) if k in _FIELD_ORDER else len(_FIELD_ORDER)))}


def _connector_grants(
    live: dict[str, Any], catalog: Catalog, report: Report
) -> dict[str, list[dict[str, Any]]]:
    """Role statements per function logical id, from Connector resources and from
    functions' embedded ``Connectors:`` (SAM's shorthand with the function as source)."""
    grants: dict[str, list[dict[str, Any]]] = {}

    def add(props: dict[str, Any], where: str, label: str) -> None:
        source, statements = connector_statements(props, catalog, where, report.gaps)
        if source is not None and statements:
            grants.setdefault(source, []).extend(statements)
            report.map(label, "connector", f"role of functions.{catalog.resources[source].name}")

    for lid, res in live.items():
        props = res.get("Properties") or {}
        if res["Type"] == "AWS::Serverless::Connector":
            add(props, f"Resources.{lid}", lid)
        embedded = res.get("Connectors")
        if res["Type"] == FUNCTION_TYPE and isinstance(embedded, dict):
            for name, conn in embedded.items():
                cprops = dict((conn or {}).get("Properties") or {})
                cprops["Source"] = {"Id": lid}
                add(cprops, f"Resources.{lid}.Connectors.{name}", f"{lid}.{name}")
    return grants


def _template_field(manifest_field: str, sources: dict[str, str]) -> str:
    """The template field a manifest field came from (the longest known prefix)."""
    best = ""
    for prefix in sources:
        if manifest_field.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return sources[best] if best else manifest_field


def _included(lid: str, res: dict[str, Any], resolver: Resolver, report: Report) -> bool:
    cond = res.get("Condition")
    if cond is None:
        return True
    try:
        if resolver.condition(str(cond)):
            return True
    except Unresolvable as exc:
        report.gap(f"Resources.{lid}.Condition: {exc.reason}; the resource is imported")
        return True
    report.gap(f"Resources.{lid}: condition {cond} is false; not imported")
    return False


def _name_resources(
    live: dict[str, Any], catalog: Catalog, resolver: Resolver, report: Report
) -> None:
    """Give every data resource and function its Ramparts name (explicit property, else id)."""
    for lid, res in live.items():
        rtype = res["Type"]
        props = res.get("Properties") or {}
        spec = NAMED_TYPES.get(rtype)
        if rtype in ("AWS::Serverless::Connector", "AWS::Scheduler::Schedule",
                     "AWS::Events::Rule"):
            continue  # read by _connector_grants and schedule_triggers
        if spec is None:
            catalog.others[lid] = rtype
            if rtype in _CARRIED:
                report.map(lid, rtype.split("::")[-1], _CARRIED[rtype])
            elif rtype in _NO_EQUIVALENT:
                report.gap(f"Resources.{lid}: {_NO_EQUIVALENT[rtype]} have no equivalent")
            elif rtype.startswith("AWS::Cognito::"):
                report.gap(f"Resources.{lid}: Cognito ({rtype}) has no equivalent; configure "
                           "auth.jwt with the user pool as issuer")
            else:
                report.gap(f"Resources.{lid}: {rtype} has no equivalent")
            continue
        kind, name_prop = spec
        name = lid
        if name_prop and name_prop in props:
            try:
                name = resolver.resolve_str(props[name_prop], name_prop)
            except Unresolvable as exc:
                report.gap(f"Resources.{lid}.{name_prop}: {exc.reason}; named {lid}")
        if kind == "function":
            name = function_name(name)
        elif kind in ("secret", "parameter", "alias"):
            name = name.removeprefix("alias/").lstrip("/").replace("/", ".")
        elif kind == "queue" and props.get("FifoQueue") is True and not name.endswith(".fifo"):
            name += ".fifo"
        if not valid_name(name):
            report.gap(f"Resources.{lid}: name {name!r} is not a Ramparts name; references "
                       "to it are dropped")
            catalog.others[lid] = rtype
            continue
        catalog.resources[lid] = Resource(lid, rtype, kind, name, props)
        if kind == "function" and rtype == FUNCTION_TYPE:
            continue
        if kind == "bucket":
            for prop in ("NotificationConfiguration", "WebsiteConfiguration",
                         "ReplicationConfiguration"):
                if prop in props:
                    report.gap(f"Resources.{lid}.{prop}: no equivalent")


def _secrets_to_store(catalog: Catalog, functions: dict[str, Any], report: Report) -> None:
    """Secret values never travel in a template: say which secrets the node must hold."""
    names: dict[str, str] = {}
    for res in catalog.by_kind("secret") + catalog.by_kind("parameter"):
        names.setdefault(res.name, f"Resources.{res.logical_id}")
    for fn_name, fn in functions.items():
        for var, value in (fn.get("environment") or {}).items():
            if isinstance(value, dict) and "secret" in value:
                names.setdefault(value["secret"], f"functions.{fn_name}.environment.{var}")
    for name, where in names.items():
        report.gap(f"{where}: store secret {name} on the node before the app runs "
                   f"(ramparts secrets set {name} --app {catalog.app}); values are not imported")


def _queues_without_consumer(
    catalog: Catalog, functions: dict[str, Any], report: Report
) -> None:
    consumed = {
        name
        for fn in functions.values()
        for t in fn.get("triggers", [])
        for kind in ("topic", "table", "object", "schedule")
        if kind in t
        for name in (t[kind].get("name"), t[kind].get("dead_letter"))
        if name
    }
    for res in catalog.by_kind("queue"):
        if res.name not in consumed:
            report.gap(f"Resources.{res.logical_id}: queue {res.name} has no consumer in the "
                       "template; its messages go to the topic of that name")
