"""``ramparts policy ...``: evaluate, simulate, lint and suggest least-privilege roles.

``eval`` and ``lint`` run locally (no node needed); ``simulate``, ``show``
and ``suggest`` ask a node, since they need the deployed role, the audit
trail and the deployed code.  Self-contained so ``main`` only calls
``register(app)``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, console, segment
from ramparts.cli.common import call as _call
from ramparts.cli.common import fail as _fail
from ramparts.errors import ManifestError

_WINDOW = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SEVERITY_COLOUR = {"high": "red", "medium": "yellow", "low": "cyan"}






def evaluate_case(line: str) -> str:
    """One JSONL case -> ``Allowed`` / ``ExplicitlyDenied`` / ``ImplicitlyDenied``.

    Raises ``ValueError`` (or ``PolicyError``) for a malformed case.
    """
    from ramparts.policy.document import parse_policy
    from ramparts.policy.evaluator import Evaluator, normalize_context

    case = json.loads(line)
    if not isinstance(case, dict):
        raise ValueError("a case is a JSON object")
    policies = case.get("policies")
    if isinstance(policies, dict):
        policies = [policies]
    if not isinstance(policies, list):
        raise ValueError("policies must be a list of IAM policy documents")
    action, resource = case.get("action"), case.get("resource")
    if not isinstance(action, str) or not isinstance(resource, str):
        raise ValueError("action and resource are strings")
    context = case.get("context") or {}
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    docs = [parse_policy(p, path=f"policies[{i}]") for i, p in enumerate(policies)]
    return Evaluator(docs, cache=False).decide(action, resource, normalize_context(context)).outcome


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="least privilege: evaluate, simulate, lint, suggest roles")
    app.add_typer(policy_app, name="policy", no_args_is_help=True)

    @policy_app.command("eval")
    def eval_cases(
        cases: Annotated[
            Path, typer.Option("--cases", help="JSONL: one case per line ('-' for stdin)")
        ],
    ) -> None:
        """Evaluate a batch of cases; prints Allowed, ExplicitlyDenied or ImplicitlyDenied."""
        from ramparts.errors import RampartsError

        try:
            text = sys.stdin.read() if str(cases) == "-" else cases.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"{cases}: {exc.strerror}")
        bad = 0
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                print(evaluate_case(line))
            except (ValueError, RampartsError) as exc:
                bad += 1
                reason = exc.message if isinstance(exc, RampartsError) else str(exc)
                print(f"Error: line {n}: {reason}")
        if bad:
            raise typer.Exit(1)

    @policy_app.command("simulate")
    def simulate(
        function: str,
        action: str,
        resource: Annotated[str, typer.Argument(help="ARN or short name, e.g. kv:orders/o-1")],
        context: Annotated[
            str | None, typer.Option("--context", help="JSON object of condition keys")
        ] = None,
        qualifier: Annotated[str | None, typer.Option(help="alias or version")] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Explain how FUNCTION's role decides ACTION on RESOURCE."""
        extra: Any = {}
        if context:
            try:
                extra = json.loads(context)
            except json.JSONDecodeError as exc:
                _fail(f"--context is not valid JSON: {exc.msg}")
        out = _call(
            url,
            data_dir,
            "POST",
            "/v1/policy/simulate",
            json={
                "function": function,
                "action": action,
                "resource": resource,
                "context": extra,
                "qualifier": qualifier,
            },
        )
        if as_json:
            console.print_json(json.dumps(out))
            return
        colour = "green" if out["decision"] == "Allowed" else "red"
        line = f"[{colour}]{out['decision']}[/] {out['action']} on {out['resource']}"
        if out["matched_statement"]:
            line += f" (statement {out['matched_statement']})"
        console.print(line, highlight=False)
        for st in out["statements"]:
            console.print(
                f"  {st['effect']:<5} {st['label']}: {json.dumps(st['statement'])}",
                highlight=False,
                markup=False,
            )
        if out["decision"] == "ImplicitlyDenied":
            console.print("  no statement allows it (deny by default)")

    @policy_app.command("show")
    def show(function: str, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
        """Print FUNCTION's live role as IAM JSON documents."""
        out = _call(url, data_dir, "GET", f"/v1/functions/{segment(function)}/policy")
        console.print_json(json.dumps(out))

    @policy_app.command("lint")
    def lint(
        directory: Annotated[Path, typer.Argument(help="app directory")] = Path("."),
        fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    ) -> None:
        """Flag over-broad roles; exits 1 when a finding is high severity."""
        from ramparts.policy.lint import HIGH, lint_app

        if fmt not in ("table", "json"):
            _fail("--format is table or json")
        if not directory.is_dir():
            _fail(f"{directory}: not a directory")
        try:
            findings = lint_app(directory)
        except ManifestError as exc:
            lines = "\n".join(f"  {exc.file}: {p or '<root>'}: {r}" for p, r in exc.problems)
            _fail(f"invalid manifest:\n{lines}", 2)
            return
        if fmt == "json":
            print(json.dumps([f.to_dict() for f in findings], indent=2))
        elif not findings:
            console.print("[green]no findings[/]")
        else:
            table = Table()
            for col in ("severity", "rule", "function", "where", "finding", "fix"):
                table.add_column(col, overflow="fold")
            for f in findings:
                colour = _SEVERITY_COLOUR[f.severity]
                table.add_row(
                    f"[{colour}]{f.severity}[/]", f.rule, f.function, f.where, f.message, f.hint
                )
            console.print(table)
        if any(f.severity == HIGH for f in findings):
            raise typer.Exit(1)

    @policy_app.command("suggest")
    def suggest(
        function: str,
        window: Annotated[str, typer.Option(help="how far back to look, e.g. 7d, 12h")] = "7d",
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Propose FUNCTION's minimal role from recorded and static use; print the diff."""
        m = _WINDOW.match(window)
        if not m or int(m.group(1)) <= 0:
            _fail(f"{window!r} is not a window such as 7d, 12h or 3600")
            return
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
        out = _call(
            url,
            data_dir,
            "GET",
            f"/v1/functions/{segment(function)}/policy/suggest",
            params={"window": str(seconds)},
        )
        if as_json:
            console.print_json(json.dumps(out))
            return
        console.print(f"role of {function} (v{out['version'][:12]}), last {window}:")
        for d in out["diff"]:
            st = d["statement"]
            acts = ", ".join(st.get("actions") or st.get("not_actions") or [])
            res = ", ".join(st.get("resources") or st.get("not_resources") or [])
            mark, colour = {"keep": (" ", "dim"), "remove": ("-", "red"), "add": ("+", "green")}[
                d["op"]
            ]
            console.print(
                f"[{colour}]{mark} {st['effect']} {acts} on {res}[/]  [dim]# {d['why']}[/]",
                highlight=False,
            )
        for u in out["unresolved"]:
            console.print(
                f"[yellow]? {u['action']} at {u['code']}: the resource is not a literal, "
                "review by hand[/]",
                highlight=False,
            )
        suggested: dict[str, Any] = {"role": out["suggested"]["role"]}
        if out["suggested"]["secrets"]:
            suggested["secrets"] = out["suggested"]["secrets"]
        console.print("\nsuggested (ramparts.yaml):")
        print(yaml.safe_dump({function: suggested}, sort_keys=False).rstrip())
