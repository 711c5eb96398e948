"""The ``ramparts`` command line (Typer + Rich).

``ramparts up`` runs a node in the foreground; every other command talks to
a node's control API (``--url`` / ``RAMPARTS_URL``, default
http://127.0.0.1:8081) with the admin token found under the data dir.
Errors print one clear line and exit non-zero; never a stack trace.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.auditlog import register as register_audit_log
from ramparts.cli.budget import register as register_budget
from ramparts.cli.client import ClientError, ControlClient
from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, cell, console, err, segment
from ramparts.cli.common import call as _call
from ramparts.cli.common import fail as _fail
from ramparts.cli.common import report as _report
from ramparts.cli.common import timestamp as _ts
from ramparts.cli.identity import register as register_identity
from ramparts.errors import DataIntegrityError, ManifestError, RampartsError
from ramparts.files import describe_os_error

app = typer.Typer(
    help="Ramparts: secure serverless functions on your own machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_identity(app)  # `keys` and `clients`
register_budget(app)  # `budget show|set`

EXIT_DATA_INTEGRITY = 3  # `up` and `doctor`: the data dir failed its integrity check





def _client(url: str | None, data_dir: str | None) -> ControlClient:
    return ControlClient(url, data_dir)


def _fn(function: str) -> str:
    """``function`` checked as a deployed function's name, for a URL path.

    A name with control characters would otherwise break the request line (an
    httpx traceback), and ``../../audit?x=`` would reach another endpoint.
    """
    from ramparts.manifest import NAME_RE

    if not NAME_RE.fullmatch(function):
        _fail(
            f"FUNCTION {escape(repr(function))}: not a function name (1 to 63 lowercase "
            "letters, digits and '-', starting with a letter or digit)"
        )
    return quote(function, safe="")








# -- node ------------------------------------------------------------------------------
@app.command()
def up(
    data_dir: DataDirOpt = None,
    host: Annotated[str, typer.Option(help="gateway address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="gateway port")] = 8080,
    admin_host: Annotated[str, typer.Option(help="control API address")] = "127.0.0.1",
    admin_port: Annotated[int, typer.Option(help="control API port")] = 8081,
    state: Annotated[str | None, typer.Option(help="state URL (or RAMPARTS_STATE_URL)")] = None,
    bus: Annotated[str | None, typer.Option(help="bus URL (or RAMPARTS_BUS_URL)")] = None,
    tls: Annotated[
        str | None, typer.Option("--tls", help="'self-signed': make a development certificate")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="private key (PEM)")] = None,
    insecure_http: Annotated[
        bool,
        typer.Option("--insecure-http", help="allow plain HTTP on a non-loopback address"),
    ] = False,
    package_index: Annotated[
        str | None,
        typer.Option(
            "--package-index",
            help="the package index deploy-time installs may reach (default: pip's own config)",
        ),
    ] = None,
    allow_source_builds: Annotated[
        bool,
        typer.Option(
            "--allow-source-builds",
            help="let deploy-time installs build sdists and local source trees (their build "
            "code runs in the installer's sandbox); default: wheels only",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="comma-separated proxy addresses whose X-Forwarded-For is trusted (default none)",
        ),
    ] = "",
    max_connections_per_client: Annotated[
        int | None,
        typer.Option(
            "--max-connections-per-client",
            help="connections one client address may hold on each listener (default 64; "
            "or RAMPARTS_MAX_CONNECTIONS_PER_CLIENT); raise it behind a proxy",
        ),
    ] = None,
    allow_degraded_sandbox: Annotated[
        bool,
        typer.Option(
            "--allow-degraded-sandbox",
            help="start even when a required sandbox layer is unavailable (weaker isolation)",
        ),
    ] = False,
    accept_data_loss: Annotated[
        bool,
        typer.Option(
            "--accept-data-loss",
            help="start even when the data dir failed its integrity check (the loss is audited)",
        ),
    ] = False,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="the region functions see as AWS_REGION and AWS_DEFAULT_REGION "
            "(default us-east-1; or RAMPARTS_REGION)",
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="the node log on stderr: json (one object per line) or text "
            "(default: text on a terminal, else json; or RAMPARTS_LOG_FORMAT)",
        ),
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="debug, info, warning (default) or error; the one line per invocation "
            "is INFO and shows unless this is error or critical",
        ),
    ] = "warning",
    retain_invocations: Annotated[
        str | None,
        typer.Option(
            "--retain-invocations",
            help="keep invocation records this long, e.g. 7d (the default; 0 keeps them "
            "forever; or RAMPARTS_RETAIN_INVOCATIONS); older ones are pruned periodically",
        ),
    ] = None,
    siem: Annotated[
        list[str] | None,
        typer.Option(
            "--siem",
            help="export audit records to this SIEM URL (repeatable; or RAMPARTS_SIEM, "
            "comma-separated): syslog+udp|tcp|tls://HOST:PORT, ocsf+file:///PATH, "
            "ocsf+https://HOST/PATH?format=hec|bulk|ndjson; see docs/siem.md",
        ),
    ] = None,
    siem_token_secret: Annotated[
        str | None,
        typer.Option(
            "--siem-token-secret",
            help="APP/NAME of the stored secret holding the HTTP collector's token "
            "(or RAMPARTS_SIEM_TOKEN_SECRET)",
        ),
    ] = None,
    siem_spool_bytes: Annotated[
        int | None,
        typer.Option(
            "--siem-spool-bytes",
            help="bound of each SIEM destination's on-disk spool; when full the oldest "
            "records are dropped and the loss audited (default 64 MiB; or "
            "RAMPARTS_SIEM_SPOOL_BYTES)",
        ),
    ] = None,
    detections: Annotated[
        Path | None,
        typer.Option(
            "--detections",
            help="directory of detection rule files (default: the shipped set; "
            "or RAMPARTS_DETECTIONS)",
        ),
    ] = None,
    alert_webhook: Annotated[
        str | None,
        typer.Option(
            "--alert-webhook",
            help="POST each new alert as JSON to this URL (https, or http to loopback; "
            "or RAMPARTS_ALERT_WEBHOOK)",
        ),
    ] = None,
    alert_webhook_secret_file: Annotated[
        Path | None,
        typer.Option(
            "--alert-webhook-secret-file",
            help="file (mode 600) with the HMAC-SHA256 key that signs webhook deliveries "
            "(or RAMPARTS_ALERT_WEBHOOK_SECRET_FILE)",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="serve Prometheus /metrics without a token on 127.0.0.1:P only (or "
            "RAMPARTS_METRICS_PORT); the admin listener's /metrics always needs the token",
        ),
    ] = None,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            "--otlp-endpoint",
            help="send OpenTelemetry traces to this OTLP/HTTP collector, e.g. "
            "http://127.0.0.1:4318 (or RAMPARTS_OTLP_ENDPOINT); default: tracing off",
        ),
    ] = None,
    retain_audit: Annotated[
        str | None,
        typer.Option(
            "--retain-audit",
            help="keep audit records this long, e.g. 365d (default; or RAMPARTS_RETAIN_AUDIT); "
            "pruning writes a signed anchor first",
        ),
    ] = None,
    audit_checkpoint_interval: Annotated[
        str | None,
        typer.Option(
            "--audit-checkpoint-interval",
            help="sign a checkpoint of the audit chain this often, e.g. 60s (default; or "
            "RAMPARTS_AUDIT_CHECKPOINT_INTERVAL)",
        ),
    ] = None,
    advisories: Annotated[
        str | None,
        typer.Option(
            "--advisories",
            help="advisory source of the deploy gate and the daily re-check: an OSV directory "
            "or zip, 'osv' (the API) or 'off' (or RAMPARTS_ADVISORIES; default: the synced "
            "export, else the OSV API)",
        ),
    ] = None,
    advisory_check_interval: Annotated[
        str | None,
        typer.Option(
            "--advisory-check-interval",
            help="re-check live versions' SBOMs this often, e.g. 1d (default; 0: never; or "
            "RAMPARTS_ADVISORY_CHECK_INTERVAL)",
        ),
    ] = None,
    drill_every: Annotated[
        str | None,
        typer.Option(
            "--drill-every",
            help="run drills on a throw-away node this often, e.g. 24h, recorded for "
            "'ramparts drill report' (default 0: never; or RAMPARTS_DRILL_EVERY)",
        ),
    ] = None,
    drill_scenarios: Annotated[
        str | None,
        typer.Option(
            "--drill-scenarios",
            help="the drills --drill-every runs: 'all' (default) or a comma-separated list "
            "(or RAMPARTS_DRILL_SCENARIOS)",
        ),
    ] = None,
    rate_limit_storage: Annotated[
        str | None,
        typer.Option(
            "--rate-limit-storage",
            help="where rate-limit counters live: memory:// (default, this node alone) or "
            "redis://HOST:PORT/DB shared by every node (or RAMPARTS_RATE_LIMIT_STORAGE)",
        ),
    ] = None,
) -> None:
    """Start a node: gateway on HOST:PORT, control API on ADMIN_HOST:ADMIN_PORT.

    Exit status: 0 after a clean stop, 1 when the node cannot start (the message
    names the cause), 3 when the data dir failed its integrity check.
    """
    import os

    from ramparts.config import Settings, mask_url, parse_duration
    from ramparts.observe.logs import configure_logging, parse_log_format, parse_log_level
    from ramparts.respond.drills.watchdog import guard as drill_guard
    from ramparts.server import run

    try:
        fmt = parse_log_format(log_format or os.environ.get("RAMPARTS_LOG_FORMAT"))
        level = parse_log_level(log_level)
        retain = (
            None
            if retain_invocations is None
            else parse_duration(retain_invocations, name="--retain-invocations")
        )
    except RampartsError as exc:
        _fail(escape(exc.message))
        return
    configure_logging(fmt, level)
    from ramparts.tls import check_pair, control_tls, is_loopback, require_tls, self_signed

    if tls not in (None, "self-signed"):
        _fail(f"--tls takes 'self-signed', not {tls!r} (or give --tls-cert and --tls-key)")
    if tls and (tls_cert or tls_key):
        _fail("give either --tls self-signed or --tls-cert/--tls-key, not both")
    if bool(tls_cert) != bool(tls_key):
        _fail("--tls-cert and --tls-key go together")
    use_tls = bool(tls or tls_cert)
    try:
        require_tls(host, tls=use_tls, insecure_http=insecure_http)
        settings = Settings.from_env(
            data_dir,
            host=host,
            port=port,
            admin_host=admin_host,
            admin_port=admin_port,
            state_url=state,
            bus_url=bus,
            insecure_http=insecure_http and not use_tls and not is_loopback(host),
            allow_degraded_sandbox=allow_degraded_sandbox,
            package_index=package_index,
            allow_source_builds=allow_source_builds,
            forwarded_allow_ips=forwarded_allow_ips,
            max_connections_per_client=max_connections_per_client,
            accept_data_loss=accept_data_loss,
            region=region,
            retain_invocations=retain,
            siem=siem or None,
            siem_token_secret=siem_token_secret,
            siem_spool_bytes=siem_spool_bytes,
            detections=detections,
            alert_webhook=alert_webhook,
            alert_webhook_secret_file=alert_webhook_secret_file,
            metrics_port=metrics_port,
            otlp_endpoint=otlp_endpoint,
            retain_audit=(
                parse_duration(retain_audit, name="--retain-audit") if retain_audit else None
            ),
            audit_checkpoint_interval=(
                parse_duration(audit_checkpoint_interval, name="--audit-checkpoint-interval")
                if audit_checkpoint_interval else None
            ),
            rate_limit_storage=rate_limit_storage,
            advisories=advisories,
            advisory_check_interval=(
                parse_duration(advisory_check_interval, name="--advisory-check-interval")
                if advisory_check_interval else None
            ),
            drill_every=(
                parse_duration(drill_every, name="--drill-every") if drill_every else None
            ),
            drill_scenarios=drill_scenarios,
        )
        if tls_cert and tls_key:
            check_pair(tls_cert, tls_key)
            settings.tls_cert, settings.tls_key = tls_cert.resolve(), tls_key.resolve()
        elif tls:
            settings.prepare_data_dir()
            settings.tls_cert, settings.tls_key = self_signed(
                settings.data_dir, [host, admin_host]
            )
        control_tls(settings)  # the control API: loopback, or HTTPS
    except RampartsError as exc:
        _fail(exc.message)
        return

    def ready(node: Any) -> None:
        console.print(f"[bold green]ramparts node {settings.node_id} is up[/]")
        scheme = "https" if settings.tls_cert else "http"
        console.print(f"  gateway      {scheme}://{settings.host}:{settings.port}")
        if settings.insecure_http:
            err.print("[bold yellow]warning:[/] serving plain HTTP on a non-loopback address")
        control_scheme = "https" if control_tls(settings) else "http"
        console.print(
            f"  control API  {control_scheme}://{settings.admin_host}:{settings.admin_port}"
        )
        console.print(f"  state        {mask_url(settings.state_url)}")
        console.print(f"  bus          {mask_url(settings.bus_url)}")
        console.print(f"  data dir     {settings.data_dir}")
        if settings.metrics_port:
            console.print(f"  metrics      http://127.0.0.1:{settings.metrics_port}/metrics")
        if settings.otlp_endpoint:
            console.print(f"  traces       {mask_url(settings.otlp_endpoint)} (OTLP/HTTP)")
        report = node.sandbox_report
        layers = ", ".join(x.name for x in report.layers if x.available)
        console.print(f"  sandbox      {layers}")
        for missing in report.missing():
            err.print(
                f"[bold red]warning: DEGRADED SANDBOX:[/] {missing.name} unavailable "
                f"({missing.detail}); handlers run with weaker isolation"
            )
        sys.stdout.flush()

    # a drill's throw-away node: stop when the drill that started it is gone (kill -9)
    drill_guard(settings.data_dir)
    try:
        run(settings, on_ready=ready)
    except DataIntegrityError as exc:
        _fail(escape(exc.message), code=EXIT_DATA_INTEGRITY)
    except RampartsError as exc:
        _fail(escape(exc.message + _cause(exc)))
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(escape(f"could not start the node: {describe_os_error(exc)}{where}"))
    except SystemExit as exc:
        # uvicorn exits with its own status (3) when a listener cannot bind; 3 is
        # ours for a failed integrity check, so a bind failure is reported as 1.
        if exc.code in (0, None):
            raise
        _fail("could not start the gateway or control API listener (is the port in use?)")


def _cause(exc: BaseException) -> str:
    """The underlying reason of a start failure, for the operator's terminal only.

    API callers get fixed messages ("the state store failed"); whoever runs
    ``ramparts up`` needs the driver's own words to act on.
    """
    cause = exc.__cause__
    if cause is None or isinstance(cause, OSError | RampartsError):
        return ""  # our messages already carry the OS's reason
    cause = getattr(cause, "orig", None) or cause  # a database driver's own error
    text = str(cause).strip().splitlines()
    first = text[0] if text else type(cause).__name__
    return "" if first in str(exc) else f" (cause: {first})"


@app.command()
def doctor(
    data_dir: DataDirOpt = None,
    state: Annotated[str | None, typer.Option(help="state URL (or RAMPARTS_STATE_URL)")] = None,
    bus: Annotated[str | None, typer.Option(help="bus URL (or RAMPARTS_BUS_URL)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the data dir for damaged files and lost messages (read-only; safe while a node runs).

    Runs the checks 'ramparts up' runs at start, with quick_check on every file
    whatever its size.  Exit status 0 when every check passed, 3 when one failed.
    """
    from ramparts.config import Settings
    from ramparts.integrity import check_data_dir

    try:
        settings = Settings.from_env(data_dir, state_url=state, bus_url=bus)
        if not settings.data_dir.is_dir():
            _fail(escape(f"no data dir at {settings.data_dir} (give --data-dir)"))
        report = check_data_dir(settings, full=True)
    except RampartsError as exc:
        _fail(escape(exc.message))
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
    else:
        for line in report.passed:
            console.print(f"[green]ok[/]      {escape(line)}", highlight=False)
        if not report.clean_stop:
            err.print("[yellow]note:[/] no clean-stop marker: a node is running on this data "
                      "dir, or the last one did not stop cleanly", highlight=False)
        for note in report.notes:
            err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
        for problem in report.problems:
            err.print(f"[bold red]FAILED[/]  {escape(problem.describe())}", highlight=False)
    if not report.ok:
        raise typer.Exit(EXIT_DATA_INTEGRITY)


# -- registry --------------------------------------------------------------------------
@app.command()
def deploy(
    directory: Annotated[Path, typer.Argument(help="app directory holding ramparts.yaml")],
    accept_risk: Annotated[
        list[str] | None,
        typer.Option("--accept-risk", help="accept finding ID for this deploy (repeatable; "
                     "needs --reason; audited)"),
    ] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option("--reason", help="why the accepted risk is acceptable (one per "
                     "--accept-risk, or one for all)"),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="baseline of accepted findings (default: "
                     "DIR/.ramparts-baseline.json if present)"),
    ] = None,
    advisories: Annotated[
        str | None, typer.Option("--advisories", help="offline OSV advisories (dir or zip)")
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="never contact the OSV API")] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scan, package and deploy the app in DIRECTORY (the node scans it again)."""
    import base64
    import getpass

    from ramparts.cli import scan as scan_cli
    from ramparts.manifest import load_manifest
    from ramparts.registry.artifacts import pack_app

    if not directory.is_dir():
        _fail(f"{directory}: not a directory")
    try:
        load_manifest(directory, display_name=str(directory / "ramparts.yaml"))
    except ManifestError as exc:
        lines = "\n".join(f"  {exc.file}: {p or '<root>'}: {r}" for p, r in exc.problems)
        _fail(f"invalid manifest:\n{lines}")
    accepts = scan_cli.parse_acceptances(accept_risk or [], reason or [])
    options = scan_cli.gate_options(
        directory, baseline=baseline, advisories=advisories, offline=offline,
        data_dir=data_dir, accept=accepts,
    )
    gate = scan_cli.run_local_gate(directory, options)
    if not gate.passed:
        err.print(scan_cli.findings_table([f.to_dict() for f in gate.blocking],
                                          title="deploy refused: blocking findings"))
        for note in gate.notes:
            err.print(f"[yellow]note:[/] {note}", highlight=False)
        _fail("nothing was uploaded; fix the findings, or accept each with "
              "--accept-risk ID --reason '...'")
    archive = pack_app(directory)
    if accepts or baseline is not None:
        try:
            actor: str | None = getpass.getuser()
        except (KeyError, OSError):
            actor = None
        body: dict[str, Any] = {
            "archive": base64.b64encode(archive).decode(),
            "accept_risk": [{"id": a.id, "reason": a.reason} for a in accepts],
            "actor": actor,
        }
        if baseline is not None:
            body["baseline"] = {"name": baseline.name,
                                "content": baseline.read_text(encoding="utf-8")}
        request: dict[str, Any] = {"json": body}
    else:
        request = {"content": archive, "headers": {"content-type": "application/gzip"}}
    client = _client(url, data_dir)
    try:
        with err.status(f"uploading {directory} ({len(archive)} bytes); the node scans it again"):
            report = client.json("POST", "/v1/deploy", **request)
    except ClientError as exc:
        if exc.code == "scan_failed":
            scan_cli.report_refusal(exc.details)
        _report(exc)
    finally:
        client.close()
    if as_json:
        console.print_json(json.dumps(report))
        return
    table = Table(title=f"deployed app {report['app']}")
    for col in ("function", "version", "#", "status"):
        table.add_column(col)
    for fn in report["functions"]:
        status = (
            "new version" if fn["created"] else ("live moved" if fn["changed"] else "unchanged")
        )
        table.add_row(fn["name"], fn["version"][:12], str(fn["seq"]), status)
    console.print(table)
    for warning in report["warnings"]:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    scan = report.get("scan") or {}
    for a in scan.get("accepted", []):
        err.print(
            f"[green]accepted[/] {a['id']} {a['rule_id']} {a['path']}:{a['line']}: "
            f"{a['accepted'].get('reason', '')} ({a['accepted'].get('source', '')}; audited)",
            highlight=False,
        )
    counts = ", ".join(f"{n} {s}" for s, n in (scan.get("counts") or {}).items() if n)
    if counts:
        err.print(f"scan: {counts} below the gate (see ramparts scan {directory})",
                  highlight=False)
    for note in scan.get("notes", []):
        err.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command()
def functions(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List deployed functions and their live versions."""
    data = _call(url, data_dir, "GET", "/v1/functions")
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table()
    for col in ("function", "app", "live", "versions", "aliases", "triggers"):
        table.add_column(col)
    for fn in data["functions"]:
        aliases = ", ".join(
            f"{k}={v[:12]}" for k, v in sorted(fn["aliases"].items()) if k != "live"
        )
        table.add_row(
            cell(fn["name"]),
            cell(fn["app"]),
            cell((fn["live"] or "-")[:12]),
            str(fn["versions"]),
            cell(aliases or "-"),
            cell(", ".join(fn["triggers"]) or "-"),
        )
    console.print(table)


@app.command()
def versions(
    function: str,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
    sbom: Annotated[
        bool, typer.Option("--sbom", help="print a version's CycloneDX SBOM (JSON) instead")
    ] = False,
    version: Annotated[
        str | None,
        typer.Option("--version", help="with --sbom: alias, id, id prefix or #seq (default: live)"),
    ] = None,
) -> None:
    """List the immutable versions of FUNCTION, or print one version's SBOM."""
    if version is not None and not sbom:
        _fail("--version goes with --sbom")
    if sbom:
        params = {"version": version.lstrip("#")} if version else {}
        doc = _call(url, data_dir, "GET", f"/v1/functions/{_fn(function)}/sbom", params=params)
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return
    data = _call(url, data_dir, "GET", f"/v1/functions/{_fn(function)}/versions")
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table(title=cell(function))
    for col in ("#", "version", "created", "signed", "aliases"):
        table.add_column(col)
    for v in data["versions"]:
        table.add_row(
            str(v["seq"]),
            cell(v["version"][:12]),
            _ts(v["created_at"]),
            cell(f"yes ({v['signer']})") if v.get("signed") else "NO",
            cell(", ".join(v["aliases"]) or "-"),
        )
    console.print(table)


@app.command()
def alias(
    function: str, name: str, version: str, url: UrlOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Point alias NAME of FUNCTION at VERSION (id, id prefix, #seq or another alias)."""
    data = _call(
        url,
        data_dir,
        "PUT",
        f"/v1/functions/{_fn(function)}/aliases/{segment(name)}",
        json={"version": version},
    )
    console.print(
        f"{function}:{name} -> {data['version'][:12]}"
        + (f" (was {data['previous'][:12]})" if data.get("previous") else "")
    )


@app.command()
def rollback(
    function: str,
    alias_name: Annotated[str, typer.Option("--alias")] = "live",
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Move FUNCTION's alias (default live) back to its previous version."""
    data = _call(
        url, data_dir, "POST", f"/v1/functions/{_fn(function)}/rollback", json={"alias": alias_name}
    )
    console.print(
        f"{function}:{data['alias']} rolled back {data['from'][:12]} -> {data['to'][:12]}"
    )


@app.command()
def gc(
    retention: Annotated[
        float | None,
        typer.Option(
            "--retention",
            help="seconds a version must have been without an alias (default: the node's "
            "RAMPARTS_VERSION_RETENTION, 7 days)",
        ),
    ] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete versions no alias points to, and their code, after the retention period."""
    if retention is not None and retention < 0:
        _fail("--retention must be 0 or more seconds")
    body: dict[str, Any] = {} if retention is None else {"retention": retention}
    data = _call(url, data_dir, "POST", "/v1/gc", json=body)
    if as_json:
        console.print_json(json.dumps(data))
        return
    for v in data["versions"]:
        console.print(f"removed {v['function']} #{v['seq']} {v['version'][:12]}")
    console.print(
        f"{len(data['versions'])} version(s) and {data['artifacts']} archive(s) removed "
        f"(unaliased for more than {data['retention']:g} s); aliased versions are kept"
    )


# -- invocation and events -------------------------------------------------------------
def _read_json_arg(value: str, what: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        _fail(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


@app.command()
def invoke(
    function: str,
    event: Annotated[
        Path | None, typer.Option("--event", help="JSON file with the event ('-' for stdin)")
    ] = None,
    qualifier: Annotated[str | None, typer.Option(help="alias or version")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    show_logs: Annotated[bool, typer.Option("--logs", help="print the captured logs")] = False,
) -> None:
    """Invoke FUNCTION synchronously and print its result."""
    path = _fn(function)
    payload: Any = {}
    if event is not None:
        if str(event) == "-":
            text = sys.stdin.read()
        else:
            try:
                text = event.read_text()
            except OSError as exc:
                _fail(f"{event}: {exc.strerror}")
        payload = _read_json_arg(text, str(event))
    data = _call(
        url,
        data_dir,
        "POST",
        f"/v1/functions/{path}/invoke",
        json={"event": payload, "qualifier": qualifier},
    )
    if show_logs and data.get("logs"):
        err.print(data["logs"], end="", highlight=False, markup=False)
    if data["status"] != "ok":
        _fail(
            f"{function} {data['status']} (request {data['request_id']}): "
            f"{data.get('error_type') or ''} {data.get('error_message') or ''}".strip()
        )
    console.print_json(json.dumps(data["result"]))


@app.command()
def publish(
    topic: str,
    data: Annotated[str, typer.Option("--data", help="JSON message")],
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Publish a JSON message to TOPIC."""
    message = _read_json_arg(data, "--data")
    out = _call(
        url,
        data_dir,
        "POST",
        f"/v1/topics/{segment(topic)}/publish",
        json={"message": message, "app": app_name},
    )
    console.print(f"published to {out['app']}/{topic}: {len(out['message_ids'])} deliveries queued")


@app.command()
def logs(
    function: str,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    limit: int = 50,
    request_id: Annotated[
        str | None, typer.Option("--request-id", help="only this invocation")
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            help="only invocations at this level or above: debug, info, warning, error, "
            "critical (ERROR when it failed, else the highest of its log lines)",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="started at or after T: ISO-8601, unix seconds, or 10m (ago)"
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="started before T (same forms as --since)")
    ] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Show FUNCTION's invocations with their captured output."""
    from ramparts.observe.invocations import REQUEST_ID_RE, parse_instant, parse_level
    from ramparts.observe.logs import escape_line

    # Checked here to name the option; durations become instants once, so that
    # --since 10m stays the same moment while following.
    path = _fn(function)
    params: dict[str, Any] = {}
    try:
        if level is not None:
            parse_level(level, name="--level")
            params["level"] = level
        for option, value, key in (("--since", since, "since"), ("--until", until, "until")):
            if value is not None:
                params[key] = repr(parse_instant(value, name=option))
    except RampartsError as exc:
        _fail(escape(exc.message))
    if request_id is not None:
        if not REQUEST_ID_RE.fullmatch(request_id):
            _fail(f"--request-id: {escape(repr(request_id))} is not a request id")
        params["request_id"] = request_id
    client = _client(url, data_dir)
    after = 0
    try:
        first = True
        while True:
            data = client.json(
                "GET",
                f"/v1/functions/{path}/logs",
                params={**params, "after": after, "limit": 1000},
            )
            rows = data["invocations"]
            if first:
                rows = rows[-limit:] if not follow or rows else rows
                first = False
            for row in rows:
                colour = "green" if row["status"] == "ok" else "red"
                console.print(
                    f"[dim]{_ts(row['started_at'])}[/] [{colour}]{row['status']:<7}[/] "
                    f"{row['request_id']} v{row['version'][:12]} {row['trigger']} "
                    f"{row['duration_ms']:.1f}ms",
                    highlight=False,
                )
                # Handler output is the handler's: escaped, it cannot steer the terminal.
                for line in (row["logs"] or "").splitlines():
                    console.print(
                        f"    {escape_line(line, keep=chr(9))}", highlight=False, markup=False
                    )
            if "cursor" in data:  # past records a --level filter skipped, too
                after = data["cursor"]
            elif data["invocations"]:
                after = data["invocations"][-1]["seq"]
            if not follow:
                return
            time.sleep(1.0)
    except ClientError as exc:
        _report(exc)
    except KeyboardInterrupt:
        return
    finally:
        client.close()


schedule_app = typer.Typer(help="schedules", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@schedule_app.command("run")
def schedule_run(function: str, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
    """Fire FUNCTION's schedule trigger now (a manual tick)."""
    out = _call(url, data_dir, "POST", f"/v1/functions/{_fn(function)}/schedule")
    console.print(f"queued {len(out['message_ids'])} scheduled event(s) for {function}")


def _key_path(key: str, what: str = "KEY") -> str:
    """``key`` checked as the node checks it, then escaped for a URL path.

    A key with a control character would otherwise break the request line
    (an httpx traceback) instead of getting the node's clear refusal; and
    ``?``, ``#`` or ``%`` in a key must not be read as URL syntax.
    """
    from ramparts.broker import KEY_RE

    if not KEY_RE.match(key):
        _fail(f"{what} {key!r}: keys are 1 to 1024 characters without control characters")
    # "." and ".." segments are escaped too: an HTTP client would otherwise
    # resolve them, and "sub/../victim" would write the object "victim".
    return "/".join(
        "%2E" * len(part) if part in (".", "..") else quote(part, safe="")
        for part in key.split("/")
    )


objects_app = typer.Typer(help="the built-in object store", no_args_is_help=True)
app.add_typer(objects_app, name="objects")


@objects_app.command("put")
def objects_put(
    bucket: str,
    key: str,
    file: Path,
    content_type: Annotated[str, typer.Option()] = "application/octet-stream",
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Upload FILE as BUCKET/KEY (object-created triggers fire; at most 10 MiB)."""
    from ramparts.broker import MAX_OBJECT_BYTES

    path = _key_path(key)
    try:
        size = file.stat().st_size
        if size > MAX_OBJECT_BYTES:
            _fail(f"{file}: {size} bytes; objects are at most 10 MiB ({MAX_OBJECT_BYTES} bytes)")
        body = file.read_bytes()
    except OSError as exc:
        _fail(f"{file}: {exc.strerror}")
    out = _call(
        url,
        data_dir,
        "PUT",
        f"/v1/objects/{segment(bucket)}/{path}",
        content=body,
        params={"app": app_name} if app_name else None,
        headers={"content-type": content_type},
    )
    console.print(f"stored {out['bucket']}/{out['key']} ({out['size']} bytes, etag {out['etag']})")


@objects_app.command("list")
def objects_list(
    bucket: str,
    prefix: str = "",
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List objects in BUCKET."""
    params: dict[str, str] = {"prefix": prefix}
    if app_name:
        params["app"] = app_name
    out = _call(url, data_dir, "GET", f"/v1/objects/{segment(bucket)}", params=params)
    table = Table(title=cell(f"{out['app']}/{bucket}"))
    for col in ("key", "size", "type", "updated"):
        table.add_column(col)
    for o in out["objects"]:
        table.add_row(
            cell(o["key"]), str(o["size"]), cell(o["content_type"]), _ts(o["updated_at"])
        )
    console.print(table)


kv_app = typer.Typer(help="the built-in KV tables", no_args_is_help=True)
app.add_typer(kv_app, name="kv")


@kv_app.command("put")
def kv_put(
    table: str,
    key: str,
    item: str,
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write ITEM (a JSON object) at TABLE/KEY (table-change triggers fire)."""
    path = _key_path(key)
    value = _read_json_arg(item, "ITEM")
    _call(
        url, data_dir, "PUT", f"/v1/kv/{segment(table)}/{path}",
        json={"item": value, "app": app_name},
    )
    console.print(f"stored {table}/{key}")


@kv_app.command("get")
def kv_get(
    table: str,
    key: str,
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Print the item at TABLE/KEY."""
    out = _call(
        url,
        data_dir,
        "GET",
        f"/v1/kv/{segment(table)}/{_key_path(key)}",
        params={"app": app_name} if app_name else None,
    )
    console.print_json(json.dumps(out["item"]))


@kv_app.command("delete")
def kv_delete(
    table: str,
    key: str,
    app_name: Annotated[str | None, typer.Option("--app")] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete the item at TABLE/KEY (table-change triggers get a REMOVE record)."""
    _call(
        url,
        data_dir,
        "DELETE",
        f"/v1/kv/{segment(table)}/{_key_path(key)}",
        params={"app": app_name} if app_name else None,
    )
    console.print(f"deleted {table}/{key}")


audit_app = typer.Typer(help="the audit log", no_args_is_help=True)
app.add_typer(audit_app, name="audit-log")
register_audit_log(audit_app)


@audit_app.command("list")
def audit_list(
    limit: int = 50, url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """Show recent audit events (every security decision)."""
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        out = _call(url, data_dir, "GET", "/v1/audit", params={"after": after, "limit": 1000})
        rows.extend(out["events"])
        if len(out["events"]) < 1000:
            break
        after = out["events"][-1]["seq"]
    rows = rows[-limit:]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table()
    for col in ("#", "time", "kind", "decision", "principal", "action", "resource"):
        table.add_column(col)
    for e in rows:
        colour = "green" if e["decision"] == "allow" else "red"
        table.add_row(
            str(e["seq"]),
            _ts(e["ts"]),
            cell(e["kind"]),
            f"[{colour}]{cell(e['decision'])}[/]",
            cell(e["principal"]),
            cell(e["action"]),
            cell(e["resource"]),
        )
    console.print(table)


@app.command("dead-letters")
def dead_letters(
    function: str | None = None, url: UrlOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Show events that exhausted their retries."""
    out = _call(
        url,
        data_dir,
        "GET",
        "/v1/dead-letters",
        params={"function": function} if function else None,
    )
    table = Table()
    for col in ("time", "function", "source", "attempts", "error"):
        table.add_column(col)
    for d in out["dead_letters"]:
        table.add_row(
            _ts(d["at"]), cell(d["function"]), cell(d["source"]), str(d["attempts"]),
            cell(d["error"]),
        )
    console.print(table)


@app.command()
def status(url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
    """Show the node's backends, routes, queue depths, workers and sandbox layers."""
    data = _call(url, data_dir, "GET", "/v1/status")
    sandbox = data.pop("sandbox", None)
    console.print_json(json.dumps(data))
    if not isinstance(sandbox, dict):
        return
    table = Table(title="sandbox layers")
    for col in ("layer", "status", "detail"):
        table.add_column(col)
    for layer in sandbox.get("layers", []):
        if layer["available"]:
            state = "[green]on[/]"
        elif layer["required"]:
            state = "[bold red]MISSING[/]"
        else:
            state = "[yellow]off[/]"
        table.add_row(cell(layer["name"]), state, cell(layer.get("detail") or ""))
    console.print(table)
    if sandbox.get("degraded"):
        err.print(
            "[bold red]warning: DEGRADED SANDBOX[/] (started with --allow-degraded-sandbox): "
            "required layers are missing; handlers run with weaker isolation"
        )


__import__("ramparts.cli.vault", fromlist=["register"]).register(app)  # secrets, encryption
__import__("ramparts.cli.policy", fromlist=["register"]).register(app)  # policy eval/lint/...
__import__("ramparts.cli.scan", fromlist=["register"]).register(app)  # scan, advisories
__import__("ramparts.cli.aws", fromlist=["register"]).register(app)  # aws credentials
__import__("ramparts.cli.sam", fromlist=["register"]).register(app)  # import (AWS SAM)
__import__("ramparts.cli.respond", fromlist=["register"]).register(app)  # alerts
__import__("ramparts.cli.incident", fromlist=["register"]).register(app)  # quarantine, ...
__import__("ramparts.cli.waf", fromlist=["register"]).register(app)  # waf test/rules/block/...
__import__("ramparts.cli.starter", fromlist=["register"]).register(app)  # init
__import__("ramparts.cli.explain", fromlist=["register"]).register(app)  # explain
__import__("ramparts.cli.posture", fromlist=["register"]).register(app)  # audit (posture)
__import__("ramparts.cli.pentest", fromlist=["register"]).register(app)  # pentest
__import__("ramparts.cli.drill", fromlist=["register"]).register(app)  # drill


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
