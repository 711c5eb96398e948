"""``ramparts init``: each template is an app with zero gate findings that works on a real node.

Every template is written by the real CLI, scanned by the deploy gate (no
finding of any severity), linted by ``policy lint`` (clean), tested by its own
generated tests, deployed to a real node and driven through its trigger.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ramparts.events.webhooks import sign_webhook
from ramparts.scan.gate import run_gate
from ramparts.starter.scaffold import TEMPLATES
from tests.conftest import RunningNode

SIGNING_SECRET = "whsec_aW5pdC10ZW1wbGF0ZS1zZWNyZXQ="


def _init(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    """``ramparts init`` in-process (a Python start-up saved per call); the real entry
    point runs it in test_writes_into_an_empty_directory_and_defaults_to_the_name."""
    return node.cli_in_process("init", *args)


@pytest.fixture(scope="module")
def apps(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One app per template, written by ``ramparts init`` and deployed to the node."""
    root = tmp_path_factory.mktemp("init")
    out: dict[str, Path] = {}
    done = node.cli(
        "secrets",
        "set",
        "webhook-signing-secret",
        "--app",
        "t-webhook",
        "--stdin",
        stdin=SIGNING_SECRET,
    )
    assert done.returncode == 0, done.stderr
    for template in TEMPLATES:
        target = root / template
        made = _init(node, f"t-{template}", "--template", template, "--dir", str(target))
        assert made.returncode == 0, made.stderr
        out[template] = target
    return out


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_has_no_gate_findings_and_a_clean_policy_lint(
    node: RunningNode, apps: dict[str, Path], template: str
) -> None:
    result = run_gate(apps[template])
    assert [f.to_dict() for f in result.findings] == []
    assert result.has_manifest and result.excluded == []
    scanned = node.cli("scan", str(apps[template]), "--format", "json")
    assert scanned.returncode == 0, scanned.stderr
    assert json.loads(scanned.stdout)["findings"] == []
    linted = node.cli("policy", "lint", str(apps[template]), "--format", "json")
    assert linted.returncode == 0, linted.stderr
    assert json.loads(linted.stdout) == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_manifest_carries_every_control(apps: dict[str, Path], template: str) -> None:
    from ramparts.manifest import load_manifest

    manifest = load_manifest(apps[template])
    for fn in manifest.functions.values():
        assert fn.runtime_protection == "block" and fn.egress == []
        assert fn.budget is not None and "concurrency" in fn.model_fields_set
        assert fn.role is not None and not isinstance(fn.role, str)
        for st in fn.role.statements:
            assert all("*" not in a for a in st.actions)
            assert all(not r.endswith(("/*", ":*")) and r != "*" for r in st.resources)
        for trig in fn.triggers:
            if trig.http is not None:
                assert trig.http.auth in ("api_key", "jwt") and trig.http.rates
                if trig.http.method in ("POST", "PUT", "PATCH"):
                    assert trig.http.schema_ is not None
            if trig.topic is not None:
                assert trig.topic.schema_ is not None
            if trig.webhook is not None:
                assert trig.webhook.tolerance <= 300 and trig.webhook.scheme == "standard"
            if trig.kind in ("topic", "schedule", "webhook"):
                assert trig.config.dead_letter


@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_tests_pass(apps: dict[str, Path], template: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
        cwd=apps[template],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def _deploy(node: RunningNode, app: Path) -> None:
    report = node.deploy_ok(app)
    assert report["scan"]["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0}


def test_http_api_answers_with_an_api_key_only(node: RunningNode, apps: dict[str, Path]) -> None:
    _deploy(node, apps["http-api"])
    made = node.cli("keys", "create", "--name", "init-test", "--app", "t-http-api", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    body = {"name": "pen", "quantity": 3}
    assert node.gateway.post("/items", json=body).status_code == 401
    r = node.gateway.post("/items", json=body, headers={"x-api-key": key})
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["name"] == "pen" and item["quantity"] == 3
    r = node.gateway.get(f"/items/{item['id']}", headers={"x-api-key": key})
    assert r.status_code == 200 and r.json() == item
    # the schema refuses a body the handler was not written for, before the handler runs
    before = len(node.invocations("items"))
    r = node.gateway.post("/items", json={**body, "admin": True}, headers={"x-api-key": key})
    assert r.status_code == 400, r.text
    assert len(node.invocations("items")) == before


def test_queue_worker_handles_a_published_job(node: RunningNode, apps: dict[str, Path]) -> None:
    _deploy(node, apps["queue-worker"])
    job = json.dumps({"id": "job-7", "numbers": [1, 2, 4]})
    sent = node.cli("publish", "jobs", "--app", "t-queue-worker", "--data", job)
    assert sent.returncode == 0, sent.stderr
    node.wait_invocations("worker", 1, timeout=60)
    stored = _wait_cli(node, "kv", "get", "results", "job-job-7", "--app", "t-queue-worker")
    assert json.loads(stored) == {"id": "job-7", "total": 7, "count": 3}
    # a message the schema refuses is dead-lettered and never reaches the handler
    bad = node.cli("publish", "jobs", "--app", "t-queue-worker", "--data", '{"id": "x"}')
    assert bad.returncode == 0, bad.stderr
    deadline = time.monotonic() + 60
    letters: list[dict[str, object]] = []
    while not letters and time.monotonic() < deadline:
        letters = node.control.get("/v1/dead-letters", params={"function": "worker"}).json()[
            "dead_letters"
        ]
        time.sleep(0.2)
    assert len(letters) == 1
    assert len(node.invocations("worker")) == 1


def test_webhook_takes_a_signed_delivery_and_refuses_an_unsigned_one(
    node: RunningNode, apps: dict[str, Path]
) -> None:
    _deploy(node, apps["webhook"])
    body = json.dumps({"id": "evt_42", "type": "invoice.paid"}).encode()
    path = "/hooks/t-webhook"
    unsigned = node.gateway.post(path, content=body, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    headers = {**sign_webhook("standard", SIGNING_SECRET, body), "content-type": "application/json"}
    r = node.gateway.post(path, content=body, headers=headers)
    assert r.status_code == 202, r.text
    node.wait_invocations("receiver", 1, timeout=60)
    stored = _wait_cli(node, "kv", "get", "deliveries", "event-evt_42", "--app", "t-webhook")
    assert json.loads(stored) == {"id": "evt_42", "type": "invoice.paid"}
    assert node.gateway.post(path, content=body, headers=headers).status_code == 409  # replay


def test_scheduled_job_runs_on_schedule_run(node: RunningNode, apps: dict[str, Path]) -> None:
    _deploy(node, apps["scheduled"])
    ran = node.cli("schedule", "run", "nightly")
    assert ran.returncode == 0, ran.stderr
    node.wait_invocations("nightly", 1, timeout=60)
    listing = _wait_cli(node, "objects", "list", "reports", "--app", "t-scheduled")
    assert "daily-" in listing and ".json" in listing


def _wait_cli(node: RunningNode, *args: str, timeout: float = 30) -> str:
    """stdout of a CLI command once it succeeds (the handler's write may land a moment later).

    Polled in-process: a subprocess per poll cost a Python start-up each time.
    """
    deadline = time.monotonic() + timeout
    while True:
        done = node.cli_in_process(*args)
        if done.returncode == 0 or time.monotonic() > deadline:
            assert done.returncode == 0, done.stderr
            return done.stdout
        time.sleep(0.2)


# -- refusals -----------------------------------------------------------------------------
def test_refuses_a_non_empty_directory(node: RunningNode, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    done = _init(node, "busy", "--template", "http-api", "--dir", str(target))
    assert done.returncode != 0
    assert "--dir" in done.stderr and "not empty" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert (target / "keep.txt").read_text() == "mine"


def test_writes_into_an_empty_directory_and_defaults_to_the_name(
    node: RunningNode, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _init(node, "fresh", "--template", "scheduled", "--dir", str(empty)).returncode == 0
    assert (empty / "ramparts.yaml").read_text().startswith("# fresh:")
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "init", "named", "-t", "webhook"],
        cwd=tmp_path,
        env=node.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "path: /hooks/named" in (tmp_path / "named" / "ramparts.yaml").read_text()
    assert not list((tmp_path / "named").rglob("*.tmpl"))


def test_next_hints_are_in_the_order_they_are_run(node: RunningNode, tmp_path: Path) -> None:
    """``deploy`` first, then what uses the deployed app; the webhook's signing secret
    comes before its deploy (the deploy needs it)."""
    for template in TEMPLATES:
        target = str(tmp_path / template)
        done = _init(node, f"n-{template}", "--template", template, "--dir", target)
        assert done.returncode == 0, done.stderr
        hints = [line.strip() for line in done.stdout.split("next:", 1)[1].splitlines()]
        hints = [h for h in hints if h and not h.startswith("cd ")]
        deploy = f"ramparts deploy {target}"
        assert len(hints) == 2 and deploy in hints, (template, hints)
        if template == "webhook":
            assert hints[0].startswith("ramparts secrets set") and hints[1] == deploy, hints
        else:
            assert hints[0] == deploy, (template, hints)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("Bad_Name", "--template", "http-api"), "NAME"),
        (("x" * 64, "--template", "http-api"), "NAME"),
        (("ok-name", "--template", "ftp-server"), "--template"),
    ],
)
def test_bad_name_or_template_names_the_field(
    node: RunningNode, tmp_path: Path, args: tuple[str, ...], field: str
) -> None:
    done = _init(node, *args, "--dir", str(tmp_path / "out"))
    assert done.returncode != 0
    assert f"{field}:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_refuses_a_file_as_the_directory(node: RunningNode, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    done = _init(node, "ok", "--template", "queue-worker", "--dir", str(target))
    assert done.returncode != 0 and "--dir:" in done.stderr
    assert target.read_text() == "x"


# -- the posture audit ---------------------------------------------------------------------
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_passes_the_posture_audit(
    node: RunningNode, apps: dict[str, Path], template: str
) -> None:
    """A deployed template gives the posture audit nothing to report about the app itself
    (node-level findings depend on how the node was started, not on the template)."""
    _deploy(node, apps[template])
    done = node.cli_in_process("audit", "--app", f"t-{template}", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    app_findings = [f for f in report["findings"] if f["scope"] == "app"]
    assert app_findings == []
