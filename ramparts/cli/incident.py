"""``ramparts quarantine | playbook | incident``: incident response from the command line.

Self-contained so ``main`` only calls ``register(app)``.  Every command talks to
the node's control API, except ``incident verify``, which checks an exported
incident or evidence bundle offline (no node needed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import (
    DataDirOpt,
    JsonOpt,
    UrlOpt,
    cell,
    console,
    fail,
    segment,
    timestamp,
)
from ramparts.cli.common import call as _call

quarantine_app = typer.Typer(help="Quarantine functions: their triggers stop until released.")


def _register_quarantine(app: typer.Typer) -> None:
    @quarantine_app.command("add")
    def add(
        function: Annotated[str, typer.Argument(help="the function to quarantine")],
        reason: Annotated[str, typer.Option("--reason", help="why (kept and audited)")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Quarantine FUNCTION: HTTP answers 503, events wait, schedules and invokes stop."""
        out = _call(
            url, data_dir, "POST", "/v1/quarantines", json={"function": function, "reason": reason}
        )
        if as_json:
            print(json.dumps(out, indent=2))
            return
        console.print(f"[bold]{cell(function)}[/] quarantined")

    @quarantine_app.command("release")
    def release(
        function: Annotated[str, typer.Argument(help="the quarantined function")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Release FUNCTION: its waiting events are delivered, its triggers run again."""
        out = _call(url, data_dir, "DELETE", f"/v1/quarantines/{segment(function)}")
        if as_json:
            print(json.dumps(out, indent=2))
            return
        console.print(f"[bold]{cell(function)}[/] released")

    @quarantine_app.command("list")
    def list_(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
        """List quarantined functions."""
        rows = _call(url, data_dir, "GET", "/v1/quarantines")["quarantines"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no function is quarantined")
            return
        table = Table()
        for col in ("function", "since", "by", "incident", "reason"):
            table.add_column(col, no_wrap=col == "function")
        for r in rows:
            table.add_row(
                cell(r["function"]),
                timestamp(r["created_at"]),
                cell(r["actor"]),
                cell(r["incident"] or "-"),
                cell(r["reason"]),
            )
        console.print(table)

    app.add_typer(quarantine_app, name="quarantine")


playbook_app = typer.Typer(help="Playbooks: which alerts call for which response actions.")
incident_app = typer.Typer(help="Incidents: open, contain, resolve, approve, export, verify.")


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{escape(str(path))}: cannot read it ({type(exc).__name__})")


_KEY_ID = re.compile(r"[0-9a-f]{16}")


def _pinned_key(given: str | None) -> tuple[Any, str | None]:
    """``(PEM key, key id)`` from ``--public-key``; at most one is set, both None if not given.

    A given but empty, unreadable or malformed value is a usage error naming the flag,
    never "no pin": a script passing ``--public-key "$KEY"`` with ``KEY`` unset must not
    silently verify against the key the file carries (which a forger chooses).
    """
    from ramparts.errors import InvalidRequest
    from ramparts.observe.evidence import load_public_key

    if given is None:
        return None, None
    if not given.strip():
        fail("--public-key: empty; give the node's 16-hex key id or a PEM file", 2)
    if _KEY_ID.fullmatch(given):
        return None, given
    path = Path(given)
    if not path.exists():
        fail(
            f"--public-key {escape(given)}: neither a 16-hex key id (lower case) "
            "nor an existing PEM file",
            2,
        )
    try:
        pem = path.read_bytes()
    except OSError as exc:
        fail(f"--public-key {escape(given)}: cannot read it ({type(exc).__name__})", 2)
    if not pem.strip():
        fail(f"--public-key {escape(given)}: the file is empty", 2)
    try:
        return load_public_key(pem, source=f"--public-key {given}"), None
    except InvalidRequest as exc:
        fail(escape(exc.message), 2)


def _print_dry_run(out: dict[str, Any]) -> None:
    verdict = "matches" if out["matches"] else "does NOT match"
    console.print(
        f"dry run: playbook {cell(out['playbook'])} {verdict} alert "
        f"{cell(out['alert']['rule'])}; nothing was changed"
    )
    for s in out["steps"]:
        note = " (needs approval)" if s["requires_approval"] else ""
        why = s.get("would_fail") or s.get("error") or s.get("refused")
        problem = f" [red]would fail: {cell(why)}[/]" if why else ""
        if not why and s.get("would_reach"):
            problem = f" [yellow]{cell(s['would_reach']['note'])}[/]"
        console.print(
            f"  {s['step']}. {cell(s['action'])} {cell(json.dumps(s['params']))}{note}{problem}"
        )


def _would_fail(results: list[dict[str, Any]]) -> bool:
    """Whether a step of a playbook that matches the alert would fail against the node's
    state (exit status 1).  A step whose target the alert does not name (``missing_target``)
    is shown but does not count: it fails by design, and a synthetic alert names none."""
    return any(
        r["matches"]
        and any(s.get("would_fail_code") not in (None, "missing_target") for s in r["steps"])
        for r in results
    )


def _register_playbooks(app: typer.Typer) -> None:
    @playbook_app.command("apply")
    def apply(
        file: Annotated[Path, typer.Argument(help="a playbook YAML file")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Validate FILE and store its playbooks on the node (all or none)."""
        from ramparts.respond.errors import PlaybookError
        from ramparts.respond.playbooks import parse_playbooks

        source = _read_file(file)
        try:  # checked here first: the error names the local path
            parse_playbooks(source, file=str(file))
        except PlaybookError as exc:
            fail(escape(exc.message))
        out = _call(
            url, data_dir, "POST", "/v1/playbooks", json={"source": source, "file": file.name}
        )
        if as_json:
            print(json.dumps(out, indent=2))
            return
        for row in out["applied"]:
            verb = "replaced" if row["replaced"] else "added"
            console.print(
                f"playbook [bold]{cell(row['name'])}[/] {verb} ({row['actions']} actions)"
            )
            for warning in row.get("warnings", []):
                console.print(f"[yellow]warning[/]: {cell(warning)}")

    @playbook_app.command("check")
    def check(file: Annotated[Path, typer.Argument(help="a playbook YAML file")]) -> None:
        """Validate FILE locally (no node needed)."""
        from ramparts.respond.errors import PlaybookError
        from ramparts.respond.playbooks import parse_playbooks, warnings

        try:
            books = parse_playbooks(_read_file(file), file=str(file))
        except PlaybookError as exc:
            fail(escape(exc.message))
        console.print(f"{cell(str(file))}: {len(books)} playbook(s) valid")
        for warning in warnings(books):
            console.print(f"[yellow]warning[/]: {cell(str(file))}: {cell(warning)}")

    @playbook_app.command("list")
    def list_(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
        """List the node's playbooks."""
        rows = _call(url, data_dir, "GET", "/v1/playbooks")["playbooks"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no playbooks")
            return
        table = Table()
        for col in ("name", "rules", "severity", "function", "actions"):
            table.add_column(col)
        for r in rows:
            m = r["match"]
            table.add_row(
                cell(r["name"]),
                cell(", ".join(m["rules"]) or "*"),
                cell(m["severity"] or "*"),
                cell(m["function"] or "*"),
                cell(
                    ", ".join(
                        a["action"] + ("(approval)" if a["requires_approval"] else "")
                        for a in r["actions"]
                    )
                ),
            )
        console.print(table)

    @playbook_app.command("delete")
    def delete(name: str, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
        """Delete playbook NAME."""
        _call(url, data_dir, "DELETE", f"/v1/playbooks/{segment(name)}")
        console.print(f"playbook [bold]{cell(name)}[/] deleted")

    @playbook_app.command("dry-run")
    def dry_run(
        name: Annotated[
            str | None,
            typer.Argument(help="a stored playbook, or (with --file) one playbook of FILE"),
        ] = None,
        file: Annotated[
            Path | None,
            typer.Option("--file", help="a playbook file to try without applying it"),
        ] = None,
        alert: Annotated[str | None, typer.Option("--alert", help="a stored alert's id")] = None,
        rule: Annotated[str | None, typer.Option("--rule", help="synthetic alert: rule")] = None,
        severity: Annotated[
            str, typer.Option("--severity", help="synthetic alert: low, medium, high, critical")
        ] = "high",
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """What playbook NAME (or the playbooks of --file, not applied) would do for an
        alert; changes nothing and stores nothing.  Exit 1 when a step of a matching
        playbook would fail on the node now, 2 for a bad option."""
        from ramparts.respond.rules import SEVERITIES

        if (alert is None) == (rule is None):
            fail("give --alert ID, or --rule RULE for a synthetic alert", 2)
        if severity not in SEVERITIES:  # as a playbook's match.severity: lower case
            fail(
                f"--severity {escape(repr(severity))}: one of {', '.join(SEVERITIES)} (lower case)",
                2,
            )
        body: dict[str, Any] = (
            {"alert": alert}
            if alert
            else {"alert": {"rule": rule, "severity": severity, "evidence": []}}
        )
        if file is None:
            if name is None:
                fail("give a stored playbook's NAME, or --file FILE", 2)
            out = _call(url, data_dir, "POST", f"/v1/playbooks/{segment(name)}/dry-run", json=body)
            if as_json:
                print(json.dumps(out, indent=2))
            else:
                _print_dry_run(out)
            if _would_fail([out]):
                raise typer.Exit(1)
            return
        from ramparts.respond.errors import PlaybookError
        from ramparts.respond.playbooks import parse_playbooks

        source = _read_file(file)
        try:  # checked here first: the error names the local path
            parse_playbooks(source, file=str(file))
        except PlaybookError as exc:
            fail(escape(exc.message))
        body.update(source=source, file=file.name)
        if name is not None:
            body["name"] = name
        out = _call(url, data_dir, "POST", "/v1/playbooks/dry-run", json=body)
        if as_json:
            print(json.dumps(out, indent=2))
        else:
            console.print(f"{cell(str(file))}: not applied; nothing was stored or changed")
            for result in out["playbooks"]:
                _print_dry_run(result)
            for warning in out.get("warnings", []):
                console.print(f"[yellow]warning[/]: {cell(str(file))}: {cell(warning)}")
        if _would_fail(out["playbooks"]):
            raise typer.Exit(1)

    app.add_typer(playbook_app, name="playbook")


def _show(doc: dict[str, Any]) -> None:
    console.print(
        f"[bold]incident {cell(doc['id'])}[/] {cell(doc['state'])} "
        f"{cell(doc['severity'])} owner={cell(doc['owner'] or '-')}"
    )
    console.print(f"  {cell(doc['title'])} (rule {cell(doc['rule'])})")
    for s in doc["steps"]:
        extra = f": {cell(s.get('error'))}" if s.get("error") else ""
        console.print(f"  step {s['index']}. {cell(s['action'])} {cell(s['status'])}{extra}")
    console.print("  timeline:")
    for t in doc["timeline"]:
        console.print(f"    {timestamp(t['ts'])} {cell(t['kind'])}: {cell(t['text'])}")


def _register_incidents(app: typer.Typer) -> None:
    def update(
        ident: str, body: dict[str, Any], url: str | None, data_dir: str | None, as_json: bool
    ) -> None:
        doc = _call(url, data_dir, "POST", f"/v1/incidents/{segment(ident)}", json=body)
        if as_json:
            print(json.dumps(doc, indent=2))
        else:
            _show(doc)

    @incident_app.command("list")
    def list_(
        state: Annotated[
            str | None, typer.Option("--state", help="open, contained, resolved")
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """List incidents, newest first."""
        params = {"state": state} if state else {}
        rows = _call(url, data_dir, "GET", "/v1/incidents", params=params)["incidents"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no incidents")
            return
        table = Table()
        for col in ("id", "opened", "state", "severity", "rule", "owner", "steps"):
            table.add_column(col, no_wrap=col == "id")
        for r in rows:
            steps = ", ".join(f"{s['action']}:{s['status']}" for s in r["steps"])
            table.add_row(
                cell(r["id"][:12]),
                timestamp(r["opened_at"]),
                cell(r["state"]),
                cell(r["severity"]),
                cell(r["rule"]),
                cell(r["owner"] or "-"),
                cell(steps or "-"),
            )
        console.print(table)

    @incident_app.command("show")
    def show(
        ident: str, url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
    ) -> None:
        """An incident with its steps and timeline."""
        doc = _call(url, data_dir, "GET", f"/v1/incidents/{segment(ident)}")
        if as_json:
            print(json.dumps(doc, indent=2))
        else:
            _show(doc)

    @incident_app.command("ack")
    def ack(
        ident: str,
        owner: Annotated[str, typer.Option("--owner", help="who owns it")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Acknowledge an incident: set its owner."""
        update(ident, {"owner": owner}, url, data_dir, as_json)

    @incident_app.command("contain")
    def contain(
        ident: str, url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
    ) -> None:
        """Mark an incident contained."""
        update(ident, {"state": "contained"}, url, data_dir, as_json)

    @incident_app.command("resolve")
    def resolve(
        ident: str, url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
    ) -> None:
        """Mark an incident resolved (a later alert of its rule opens a new one)."""
        update(ident, {"state": "resolved"}, url, data_dir, as_json)

    @incident_app.command("note")
    def note(
        ident: str,
        text: str,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Add a note to an incident's timeline."""
        update(ident, {"note": text}, url, data_dir, as_json)

    @incident_app.command("approve")
    def approve(
        ident: str,
        step: int,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Approve (and run now) a step waiting for approval."""
        doc = _call(url, data_dir, "POST", f"/v1/incidents/{segment(ident)}/steps/{step}/approve")
        if as_json:
            print(json.dumps(doc, indent=2))
        else:
            _show(doc)

    @incident_app.command("export")
    def export(
        ident: str,
        out: Annotated[Path, typer.Option("--out", "-o", help="file to write")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Write one file a responder can hand over: timeline, signed evidence, how to verify."""
        doc = _call(url, data_dir, "GET", f"/v1/incidents/{segment(ident)}/export")
        from ramparts.errors import StorageError
        from ramparts.files import write_private

        try:
            # 0600 like the drill history: evidence names users, addresses and requests
            write_private(out, json.dumps(doc, indent=1, sort_keys=True).encode())
        except StorageError as exc:
            fail(f"--out {escape(str(out))}: {escape(exc.message)}")
        console.print(
            f"wrote {cell(str(out))}; check it with: "
            f"{cell(doc['verification']['command'].replace('FILE', str(out)))}"
        )

    @incident_app.command("verify")
    def verify(
        file: Annotated[Path, typer.Argument(help="an incident export or evidence bundle")],
        public_key: Annotated[
            str | None,
            typer.Option(
                "--public-key", help="the node's signing key: a PEM file or its 16-hex key id"
            ),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Check an incident export or evidence bundle offline (no node needed)."""
        from ramparts.containment.bundle import export_problem, unsigned_fields, verify_bundle
        from ramparts.errors import InvalidRequest

        try:
            doc = json.loads(_read_file(file))
        except json.JSONDecodeError:
            fail(f"{escape(str(file))}: not JSON")
        if not isinstance(doc, dict):
            fail(f"{escape(str(file))}: not an incident export or evidence bundle")
        bundles = (
            [doc]
            if doc.get("format") != "ramparts-incident-export/1"
            else [b for b in (doc.get("bundle"), doc.get("snapshot")) if b is not None]
        )
        key, key_id = _pinned_key(public_key)
        results = []
        for b in bundles:
            try:
                results.append(verify_bundle(b, public_key=key))
            except InvalidRequest as exc:
                fail(f"{escape(str(file))}: {escape(exc.message)}")
        ok = bool(results) and all(r["ok"] for r in results)
        if key_id is not None and any(r["key_id"] != key_id for r in results):
            ok = False
            for r in results:
                if r["key_id"] != key_id:
                    r.update(ok=False, problem=f"signed by key {r['key_id']}, not {key_id}")
        if doc.get("format") == "ramparts-incident-export/1" and ok:
            # what is readable beside the bundles must follow from what they sign
            problem = export_problem(doc, [r["key_id"] for r in results])
            if problem is not None:
                ok = False
                results[0].update(ok=False, problem=problem)
        pinned = key is not None or key_id is not None
        unsigned = unsigned_fields(doc) if doc.get("format") == "ramparts-incident-export/1" else []
        notices = []
        if not pinned:
            notices.append(
                "not pinned: checked against the public key the file itself carries, which "
                "proves integrity, not origin (anyone can re-sign with their own key); pin the "
                "node's key with --public-key KEY_ID|PEM from a source you trust"
            )
        if unsigned:
            notices.append(
                f"not signed, not trusted: {', '.join(unsigned)} (outside every signature; "
                "take the key id to pin from a source you trust, not from the file)"
            )
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": ok,
                        "pinned": pinned,
                        "unsigned": unsigned,
                        "notices": notices,
                        "bundles": results,
                    },
                    indent=2,
                )
            )
        else:
            for r in results:
                state = "[green]verifies[/]" if r["ok"] else f"[red]FAILS[/]: {cell(r['problem'])}"
                console.print(f"bundle signed by {cell(r['key_id'])}: {state}")
            for notice in notices:
                console.print(f"[yellow]warning:[/] {cell(notice)}")
        if not ok:
            raise typer.Exit(1)

    app.add_typer(incident_app, name="incident")


throttle_app = typer.Typer(help="Lower a function's rate or concurrency at run time.")


def _register_throttle(app: typer.Typer) -> None:
    @throttle_app.command("set")
    def set_(
        function: str,
        rate: Annotated[str | None, typer.Option("--rate", help="e.g. 10/minute")] = None,
        concurrency: Annotated[
            int | None, typer.Option("--concurrency", help="calls at once, per node")
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Lower FUNCTION's rate and/or concurrency on top of its manifest's (every trigger)."""
        if rate is None and concurrency is None:
            fail("give --rate, --concurrency or both")
        body: dict[str, Any] = {"function": function}
        if rate is not None:
            body["rate"] = rate
        if concurrency is not None:
            body["concurrency"] = concurrency
        out = _call(url, data_dir, "POST", "/v1/limits", json=body)
        if as_json:
            print(json.dumps(out, indent=2))
            return
        console.print(
            f"[bold]{cell(function)}[/] lowered: rate {cell(out['rate'] or '-')}, "
            f"concurrency {cell(out['concurrency'] or '-')}"
        )

    @throttle_app.command("clear")
    def clear(function: str, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
        """Back to FUNCTION's manifest limits."""
        _call(url, data_dir, "DELETE", f"/v1/limits/{segment(function)}")
        console.print(f"[bold]{cell(function)}[/] limits restored")

    @throttle_app.command("list")
    def list_(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
        """Functions with lowered limits."""
        rows = _call(url, data_dir, "GET", "/v1/limits")["limits"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no lowered limits")
            return
        table = Table()
        for col in ("function", "rate", "concurrency", "since", "by"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                cell(r["function"]),
                cell(r["rate"] or "-"),
                cell(r["concurrency"] or "-"),
                timestamp(r["created_at"]),
                cell(r["actor"]),
            )
        console.print(table)

    app.add_typer(throttle_app, name="throttle")


def register(app: typer.Typer) -> None:
    _register_quarantine(app)
    _register_playbooks(app)
    _register_incidents(app)
    _register_throttle(app)
