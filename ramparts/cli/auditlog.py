"""``ramparts audit-log verify | export | prune``: the audit log's evidence commands.

``verify`` asks the node to walk every chain (exit 0 clean, 1 with the first
bad record named); ``verify --file`` checks an export offline, with no node.
``export`` writes a time range with its proof.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, console, err
from ramparts.cli.common import call as _call
from ramparts.cli.common import fail as _fail
from ramparts.errors import InvalidRequest
from ramparts.files import describe_os_error

__all__ = ["parse_time", "register"]


def parse_time(text: str, *, option: str) -> float:
    """Unix seconds or ISO-8601 (``2026-12-03T08:00:00Z``; no zone means UTC)."""
    try:
        value = float(text)
    except ValueError:
        try:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            _fail(f"{option}: {text!r} is neither unix seconds nor an ISO-8601 time")
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        value = when.timestamp()
    if not math.isfinite(value) or value < 0:
        _fail(f"{option}: {text!r} is not a time after 1970")
    return value


def _problem_line(problem: dict[str, Any]) -> str:
    where = f"partition {problem.get('partition')}"
    if problem.get("seq") is not None:
        where += f", record {problem['seq']}"
    return f"{where}: {problem.get('code')}: {problem.get('message')}"


def _summary(parts: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for col in ("partition", "records", "seq", "signed through", "unsigned tail", "ok"):
        table.add_column(col)
    for p in parts:
        span = "-" if p.get("first_seq") is None else f"{p['first_seq']}-{p['last_seq']}"
        table.add_row(
            escape(str(p["partition"])),
            str(p["records"]),
            span,
            str(p.get("last_signed_seq") or "-"),
            str(p.get("unsigned_tail", 0)),
            ("[green]yes[/]" if p.get("tail_vouched", True) else
             f"[yellow]{escape(str(p.get('note') or 'tail not vouched for'))}[/]")
            if p.get("ok") else "[red]NO[/]",
        )
    console.print(table)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all distinct: with a key given twice, one parser keeps
    the first value and another the last, so the file would not say one thing."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _load_export(path: Path) -> Any:
    """The export's JSON, or exit 1 with a clear message (never a traceback)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        _fail(f"--file {escape(str(path))}: {describe_os_error(exc)}")
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        _fail(f"--file {escape(str(path))}: malformed: the key {escape(repr(exc.args[0]))} "
              "appears twice in one JSON object (an export never repeats a key)")
    except (ValueError, RecursionError, MemoryError):
        _fail(f"--file {escape(str(path))}: not a JSON audit export")


def _verify_file(path: Path, public_key: str | None, as_json: bool) -> None:
    from ramparts.observe.evidence import load_public_key, verify_export

    doc = _load_export(path)
    key = None
    key_id = None
    if public_key:
        candidate = Path(public_key)
        if candidate.is_file():
            try:
                key = load_public_key(candidate.read_bytes(), source=f"--public-key {public_key}")
            except InvalidRequest as exc:
                _fail(exc.message)
            except OSError as exc:
                _fail(f"--public-key {public_key}: {describe_os_error(exc)}")
        elif all(c in "0123456789abcdef" for c in public_key) and len(public_key) == 16:
            key_id = public_key
        else:
            _fail(f"--public-key {public_key!r}: neither a PEM file nor a 16-hex key id")
    try:
        result = verify_export(doc, public_key=key, key_id=key_id)
    except InvalidRequest as exc:
        _fail(f"--file {path}: {exc.message}")
    if as_json:
        console.print_json(json.dumps(result))
    else:
        _summary(result["partitions"], f"audit export {path.name}")
        console.print(f"signer key id: [bold]{result['key_id']}[/]"
                      + ("" if result["pinned"] else
                         "  (not pinned: pass --public-key with this id or the PEM to pin it)"))
    if not result["ok"]:
        (err if as_json else console).print(
            f"[bold red]FAILED[/] {escape(_problem_line(result['problem']))}"
        )
        raise typer.Exit(1)
    if not as_json:
        console.print("[bold green]export verifies[/]")


def register(audit_app: typer.Typer) -> None:
    @audit_app.command("verify")
    def verify(
        file: Annotated[
            Path | None,
            typer.Option("--file", help="verify an export offline (no node needed)"),
        ] = None,
        public_key: Annotated[
            str | None,
            typer.Option("--public-key", help="with --file: the signer's PEM file or key id"),
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Verify the audit hash chains (exit 1 and name the first bad record if tampered)."""
        if file is not None:
            _verify_file(file, public_key, as_json)
            return
        if public_key:
            _fail("--public-key goes with --file (the node verifies with its own key)")
        result = _call(url, data_dir, "POST", "/v1/audit/verify")
        if as_json:
            console.print_json(json.dumps(result))
        else:
            _summary(result["partitions"], "audit chains")
            console.print(f"signer key id: [bold]{result.get('key_id')}[/]")
            if result.get("unchained") and not result.get("inserted_unchained"):
                console.print(f"{result['unchained']} records from before the chain "
                              "(not verifiable)")
        if not result["ok"]:
            (err if as_json else console).print(
            f"[bold red]FAILED[/] {escape(_problem_line(result['problem']))}"
        )
            raise typer.Exit(1)
        if not as_json:
            console.print("[bold green]audit log verifies[/]")

    @audit_app.command("export")
    def export(
        output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
        from_: Annotated[
            str | None,
            typer.Option("--from", help="start: unix seconds or ISO-8601 (default: the first)"),
        ] = None,
        to: Annotated[
            str | None,
            typer.Option("--to", help="end: unix seconds or ISO-8601 (default: now)"),
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Write the audit records of a time range with their proof (verify it with --file)."""
        params = {
            "from": parse_time(from_, option="--from") if from_ else 0.0,
            "to": parse_time(to, option="--to") if to else datetime.now(UTC).timestamp(),
        }
        if params["from"] > params["to"]:
            _fail("--from is after --to")
        doc = _call(url, data_dir, "GET", "/v1/audit/export", params=params)
        try:
            output.write_text(json.dumps(doc, indent=1))
        except OSError as exc:
            _fail(f"-o {output}: {describe_os_error(exc)}")
        count = sum(len(p["records"]) for p in doc["partitions"])
        console.print(f"wrote {count} records from {len(doc['partitions'])} partition(s) to "
                      f"{escape(str(output))}; signer key id {doc['key_id']}")

    @audit_app.command("prune")
    def prune(
        older_than: Annotated[
            str | None,
            typer.Option("--older-than", help="e.g. 90d (default: the node's --retain-audit)"),
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Delete this node's audit records older than the retention, after a signed anchor."""
        from ramparts.config import parse_duration
        from ramparts.errors import ConfigError

        params = {}
        if older_than:
            try:
                params["older_than"] = parse_duration(older_than, name="--older-than")
            except ConfigError as exc:
                _fail(exc.message)
        out = _call(url, data_dir, "POST", "/v1/audit/prune", params=params)
        console.print(f"pruned {out['deleted']} records of partition {escape(out['partition'])}")
