"""``ramparts scan DIR`` and ``ramparts advisories sync``: the deploy gate, standalone.

``scan`` needs no node: it runs the same gate (``ramparts.scan.gate``) a node
runs on every deploy, so CI can fail a build on exactly what a deploy would
refuse.  Exit codes: 0 the gate passes, 1 findings at or above ``--fail-on``
remain, 2 the scan could not run as asked (missing dir, invalid manifest,
bad option, malformed baseline).  ``ramparts deploy`` uses the helpers at
the bottom (acceptances, the local gate, the findings table) so a refused
deploy reads the same on both sides.

Self-contained so ``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, cell, console, err
from ramparts.errors import InvalidRequest, ManifestError
from ramparts.observe.logs import escape_line
from ramparts.scan import cache as scan_cache
from ramparts.scan.errors import ScanError

if TYPE_CHECKING:  # the scanners load lazily: other commands should not pay for bandit
    from ramparts.scan.gate import Acceptance, GateOptions, GateResult

FORMATS = ("table", "json", "sarif")
_COLOUR = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
USAGE_ERROR = 2

BaselineOpt = Annotated[
    Path | None,
    typer.Option("--baseline", help="baseline file of accepted findings (JSON or YAML); "
                 "default: DIR/.ramparts-baseline.json if present"),
]
AdvisoriesOpt = Annotated[
    str | None,
    typer.Option("--advisories", help="offline OSV advisories: a directory or zip "
                 "(default: the synced export in the data dir, else the OSV API)"),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="never contact the OSV API")
]


def _fail(message: str, code: int = USAGE_ERROR) -> None:
    shown = "\n".join(cell(line) for line in message.split("\n"))  # names from the app dir
    err.print(f"[bold red]error:[/] {shown}", highlight=False, markup=True)
    raise typer.Exit(code)


def _manifest_problems(exc: ManifestError) -> str:
    return "invalid manifest:\n" + "\n".join(
        f"  {exc.file}: {p or '<root>'}: {r}" for p, r in exc.problems
    )


def gate_options(
    directory: Path,
    *,
    fail_on: str = "high",
    baseline: Path | None = None,
    advisories: str | None = None,
    offline: bool = False,
    data_dir: str | None = None,
    accept: list[Acceptance] | None = None,
) -> GateOptions:
    """Options from command-line values; exits 2 naming the bad option."""
    from ramparts.config import resolve_data_dir
    from ramparts.scan.advisories import open_source
    from ramparts.scan.baseline import BaselineError, load_baseline
    from ramparts.scan.findings import Severity
    from ramparts.scan.gate import GateOptions

    try:
        threshold = Severity.parse(fail_on)
    except InvalidRequest as exc:
        _fail(f"--fail-on: {exc.message}")
        raise
    if not directory.is_dir():
        _fail(f"{directory}: not a directory")
    options = GateOptions(fail_on=threshold, accept=list(accept or []), parallel=True,
                          cache_dir=scan_cache.default_directory())
    if baseline is not None:
        try:
            options.baseline = load_baseline(baseline, str(baseline))
        except BaselineError as exc:
            _fail(exc.message)
    try:
        options.advisories = open_source(advisories, resolve_data_dir(data_dir), offline=offline)
    except ScanError as exc:
        _fail(exc.message)
    return options


def run_local_gate(directory: Path, options: GateOptions, *, quiet: bool = False) -> GateResult:
    """The gate with a Rich status on stderr; exits 2 on bad input, never a traceback."""
    from ramparts.scan.gate import run_gate

    try:
        if quiet:
            return run_gate(directory, options)
        with err.status(f"scanning {directory} (bandit, taint rules, secrets, manifest, "
                        "policies, dependencies)"):
            return run_gate(directory, options)
    except ManifestError as exc:
        _fail(_manifest_problems(exc))
    except ScanError as exc:
        _fail(exc.message)
    raise AssertionError("unreachable")


def findings_table(rows: list[dict[str, Any]], title: str | None = None) -> Table:
    """Findings as dicts (``Finding.to_dict`` or a refused deploy's list)."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("severity")
    table.add_column("rule")
    table.add_column("location")
    table.add_column("finding", overflow="fold")
    table.add_column("id")
    for f in rows:  # file names, messages and reasons are the app's text: escaped (F16)
        sev = str(f.get("severity", ""))
        body = Text(escape_line(str(f.get("message", ""))))
        if f.get("remediation"):
            body.append(f"\nfix: {escape_line(str(f['remediation']))}", style="dim")
        if f.get("accepted"):
            accepted = f"{f['accepted'].get('reason', '')} ({f['accepted'].get('source', '')})"
            body.append(f"\naccepted: {escape_line(accepted)}", style="green")
        rule = cell(f.get("rule_id", ""))
        if f.get("cwe"):
            rule += f"\n{cell(f['cwe'])}"
        table.add_row(Text(sev, style=_COLOUR.get(sev, "")), rule,
                      cell(f"{f.get('path')}:{f.get('line')}"), body, cell(f.get("id", "")))
    return table


def excluded_table(rows: list[dict[str, Any]]) -> Table:
    """Shipped files the gate did not read, each with its reason."""
    table = Table(title="not scanned", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("reason", overflow="fold")
    for row in rows:
        table.add_row(cell(row["path"]), cell(row["reason"]))
    return table


def print_report(result: GateResult, out: Console) -> None:
    open_rows = [f.to_dict() for f in result.open]
    if open_rows:
        out.print(findings_table(open_rows))
    else:
        out.print("[green]no open findings[/]")
    if result.accepted:
        out.print(findings_table([f.to_dict() for f in result.accepted],
                                 title="accepted (not counted)"))
    if result.excluded:
        out.print(excluded_table([e.to_dict() for e in result.excluded]))
    for note in result.notes:
        out.print(f"[yellow]note:[/] {cell(note)}", highlight=False)
    counts = ", ".join(f"{n} {s}" for s, n in result.counts().items() if n)
    verdict = ("[bold green]passes[/]" if result.passed else
               f"[bold red]fails[/] ({len(result.blocking)} at or above {result.fail_on})")
    out.print(
        f"{len(result.open)} finding(s){f' ({counts})' if counts else ''}, "
        f"{len(result.accepted)} accepted; {result.files} files, {result.lines} lines in "
        f"{result.seconds:.2f}s; the gate {verdict}",
        highlight=False,
    )


def scan(
    directory: Annotated[Path, typer.Argument(help="app directory (ramparts.yaml optional)")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or sarif")] = "table",
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="exit 1 when findings at or above this remain")
    ] = "high",
    baseline: BaselineOpt = None,
    advisories: AdvisoriesOpt = None,
    offline: OfflineOpt = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the report to FILE")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Scan DIRECTORY as a deploy would: SAST, event taint, secrets, manifest, dependencies."""
    if fmt not in FORMATS:
        _fail(f"--format: unknown format {fmt!r}: use table, json or sarif")
    options = gate_options(directory, fail_on=fail_on, baseline=baseline, advisories=advisories,
                           offline=offline, data_dir=data_dir)
    result = run_local_gate(directory, options, quiet=fmt != "table" and output is None)
    if fmt == "table":
        if output is not None:
            with output.open("w", encoding="utf-8") as fh:
                print_report(result, Console(file=fh, width=160, soft_wrap=True))
        else:
            print_report(result, console)
    else:
        if fmt == "json":
            doc = result.to_dict()
        else:
            from ramparts.scan.sarif import to_sarif

            doc = to_sarif(result)
        text = json.dumps(doc, indent=2) + "\n"
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if output is not None:
        err.print(f"wrote {fmt} report to {output}; the gate "
                  + ("passes" if result.passed else "fails"), highlight=False)
    if not result.passed:
        raise typer.Exit(1)


def advisories_sync(data_dir: DataDirOpt = None) -> None:
    """Download the OSV PyPI advisories into the data dir for offline scans."""
    from ramparts.config import resolve_data_dir
    from ramparts.scan.advisories import OSV_EXPORT, AdvisoriesUnavailable, sync

    target = resolve_data_dir(data_dir)
    try:
        with err.status(f"downloading {OSV_EXPORT}"):
            path, records = sync(target)
    except AdvisoriesUnavailable as exc:
        _fail(f"advisories unavailable: {exc.message}; the previous copy (if any) is kept", 1)
        return
    console.print(f"stored {records} OSV records at {path}", highlight=False)


CHECK_INCOMPLETE = 3  # no advisory source answered, or a version's SBOM failed its check


def advisories_check(
    url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """Re-check every live version's SBOM against the node's advisory source, now.

    Exit 0: no known advisory affects a live version; 1: some do (listed);
    3: the check is incomplete (no advisory source answered, or an SBOM failed
    its integrity check); the node audits each case.
    """
    from ramparts.cli.common import call

    data = call(url, data_dir, "POST", "/v1/advisories/check", json={})
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _print_check(data)
    if data.get("unavailable") or data.get("problems"):
        raise typer.Exit(CHECK_INCOMPLETE)
    if data.get("hits"):
        raise typer.Exit(1)


def _print_check(data: dict[str, Any]) -> None:
    hits = data.get("hits") or []
    if hits:
        table = Table(title="advisories affecting live versions")
        for col in ("function", "version", "package", "advisory", "severity", "fixed in"):
            table.add_column(col)
        for h in hits:
            sev = str(h.get("severity", ""))
            adv = str(h.get("advisory", "")) + (" (new)" if h.get("new") else "")
            table.add_row(cell(h.get("function")), cell(str(h.get("version", ""))[:12]),
                          cell(f"{h.get('package')} {h.get('installed')}"), cell(adv),
                          Text(sev, style=_COLOUR.get(sev, "")), cell(h.get("fixed_in") or "-"))
        console.print(table)
    for p in data.get("problems") or []:
        err.print(f"[bold red]not checked:[/] {cell(p.get('function'))} "
                  f"{cell(str(p.get('version', ''))[:12])}: {cell(p.get('message'))} "
                  f"({cell(p.get('code'))})", highlight=False)
    if data.get("unavailable"):
        err.print(f"[bold yellow]notice:[/] advisories were not checked: "
                  f"{cell(data['unavailable'])}", highlight=False)
        return
    checked = data.get("checked") or []
    console.print(f"{len(checked)} live version(s) checked against {cell(data.get('source'))}: "
                  f"{len(hits)} advisory hit(s), {data.get('new', 0)} new", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    advisories_app = typer.Typer(help="OSV advisory data: sync it, re-check live versions",
                                 no_args_is_help=True)
    advisories_app.command("sync")(advisories_sync)
    advisories_app.command("check")(advisories_check)
    app.add_typer(advisories_app, name="advisories")


# -- helpers for `ramparts deploy` -------------------------------------------------------------
def parse_acceptances(ids: list[str], reasons: list[str]) -> list[Acceptance]:
    """Pair ``--accept-risk`` with ``--reason`` (one each, or one reason for all); exit 2 if not."""
    from ramparts.scan.baseline import ID_RE
    from ramparts.scan.gate import Acceptance

    if not ids:
        if reasons:
            _fail("--reason goes with --accept-risk ID")
        return []
    if not reasons:
        _fail("--accept-risk needs --reason \"why this risk is acceptable\" (it is audited)")
    if len(reasons) not in (1, len(ids)):
        _fail(f"{len(ids)} --accept-risk but {len(reasons)} --reason: give one reason for all, "
              "or one per finding, in the same order")
    if len(reasons) == 1:
        reasons = reasons * len(ids)
    try:
        actor = getpass.getuser()
    except (KeyError, OSError):
        actor = None
    out: list[Acceptance] = []
    for fid, reason in zip(ids, reasons, strict=True):
        fid = fid.strip().lower()
        if not ID_RE.match(fid):
            _fail(f"--accept-risk {fid!r}: not a finding id (12 hex digits, see ramparts scan)")
        if not reason.strip():
            _fail(f"--reason for {fid} is empty")
        out.append(Acceptance(fid, reason.strip(), actor))
    return out


def report_refusal(details: dict[str, Any]) -> None:
    """Print a node's ``scan_failed`` answer as the local gate would, and exit 1."""
    rows = details.get("findings") or []
    err.print(findings_table(rows, title="the node refused the deploy: blocking findings"))
    for group in details.get("excluded") or []:
        err.print(f"[yellow]not scanned:[/] {cell(group['count'])} file(s): "
                  f"{cell(group['reason'])}",
                  highlight=False)
    for note in details.get("notes") or []:
        err.print(f"[yellow]note:[/] {cell(note)}", highlight=False)
    err.print("fix them, or accept each with --accept-risk ID --reason '...'", highlight=False)
    raise typer.Exit(1)
