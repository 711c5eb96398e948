"""`make demo`: start a node, deploy examples/orders, fire every trigger, show what happened.

Everything runs for real: a `ramparts up` node on free loopback ports with
the embedded backends in a throw-away data dir, the `ramparts` CLI for
deploy/publish/upload, plain HTTP to the gateway, and a Stripe-signed
webhook.  The node is stopped at the end whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from ramparts.events.webhooks import sign_webhook

HERE = Path(__file__).resolve().parent
APP = HERE / "orders"
WEBHOOK_SECRET = "whsec_demo_signing_secret_do_not_use"
console = Console(width=None if sys.stdout.isatty() else 110)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ramparts(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ramparts {' '.join(args)} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ramparts-demo-"))
    port, admin = free_port(), free_port()
    env = {
        **os.environ,
        "RAMPARTS_DATA_DIR": str(data_dir),
        "RAMPARTS_URL": f"http://127.0.0.1:{admin}",
    }
    console.rule("[bold]Ramparts demo")
    console.print(
        f"starting a node: gateway 127.0.0.1:{port}, control API 127.0.0.1:{admin}, "
        f"data dir {data_dir}"
    )
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--port",
            str(port),
            "--admin-port",
            str(admin),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    gateway = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    control = httpx.Client(base_url=f"http://127.0.0.1:{admin}", timeout=30)
    rows: list[tuple[str, str, str, str]] = []
    try:
        if not wait_for(lambda: _healthy(control), 30):
            raise RuntimeError("the node did not start:\n" + _stderr(node))
        token = (data_dir / "admin-token").read_text().strip()
        control.headers["authorization"] = f"Bearer {token}"
        # The webhook's signing secret goes into the encrypted secret store, never the env.
        ramparts(
            "secrets", "set", "billing-signing-secret", "--app", "orders", "--stdin",
            env=env, stdin=WEBHOOK_SECRET,
        )

        with console.status("deploying examples/orders (scan, package, import check)..."):
            console.print(ramparts("deploy", str(APP), env=env))

        # 1. HTTP: a public route with a JSON Schema, and a private one.
        order = {
            "id": "o-1001",
            "customer": "ada",
            "items": [
                {"sku": "tea", "qty": 2, "price": 4.5},
                {"sku": "cup", "qty": 1, "price": 12.0},
            ],
        }
        r = gateway.post("/orders", json=order)
        rows.append(("http", "POST /orders", "create-order", f"{r.status_code} {r.text}"))
        r = gateway.post("/orders", json={"id": "bad id"})
        rows.append(
            ("http", "POST /orders (invalid body)", "-", f"{r.status_code} {r.json()['code']}")
        )
        # A private route (auth: api_key): refused without a key, served with one.
        r = gateway.get("/orders/o-1001")
        rows.append(
            ("http", "GET /orders/{id} without a key", "-", f"{r.status_code} {r.json()['code']}")
        )
        if r.status_code != 401:
            raise RuntimeError(f"GET /orders/o-1001 without a key answered {r.status_code}")
        api_key = ramparts(
            *("keys", "create", "--name", "demo", "--scopes", "orders:read", "--expires", "1d"),
            env=env,
        ).strip()
        r = gateway.get("/orders/o-1001", headers={"x-api-key": api_key})
        rows.append(
            ("http", "GET /orders/{id} with an API key", "get-order", f"{r.status_code} {r.text}")
        )
        if r.status_code != 200:
            raise RuntimeError(f"GET /orders/o-1001 with a key answered {r.status_code}")
        r = gateway.get("/health")
        rows.append(("http", "GET /health", "health", f"{r.status_code} {r.text}"))

        # 2. Topic: published by create-order above and once more from the CLI.
        ramparts(
            "publish", "order-created", "--data", json.dumps({"id": "o-cli", "total": 1.5}), env=env
        )
        # 3. Object upload under uploads/images/ fires thumbnail.
        img = data_dir / "logo.png"
        img.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
        ramparts(
            "objects",
            "put",
            "uploads",
            "images/logo.png",
            str(img),
            "--content-type",
            "image/png",
            env=env,
        )
        # 4. Table change from the CLI (create-order already wrote one).
        ramparts(
            "kv",
            "put",
            "orders",
            "o-1002",
            json.dumps({"id": "o-1002", "total": 30.0, "status": "created"}),
            env=env,
        )
        # 5. Schedule: fire the nightly cron now rather than wait for 02:00.
        ramparts("schedule", "run", "nightly-report", env=env)
        # 6. A Stripe-signed webhook, then the same delivery replayed, then a forged one.
        payload = json.dumps(
            {
                "id": "evt_1",
                "type": "payment_intent.succeeded",
                "data": {"object": {"amount": 2100}},
            }
        ).encode()
        headers = sign_webhook("stripe", WEBHOOK_SECRET, payload)
        r = gateway.post(
            "/hooks/billing",
            content=payload,
            headers={**headers, "content-type": "application/json"},
        )
        rows.append(
            (
                "webhook",
                "POST /hooks/billing (signed)",
                "billing-webhook",
                f"{r.status_code} accepted",
            )
        )
        r = gateway.post(
            "/hooks/billing",
            content=payload,
            headers={**headers, "content-type": "application/json"},
        )
        rows.append(
            ("webhook", "same delivery replayed", "-", f"{r.status_code} {r.json()['code']}")
        )
        r = gateway.post(
            "/hooks/billing",
            content=payload,
            headers={"stripe-signature": "t=1,v1=00", "content-type": "application/json"},
        )
        rows.append(("webhook", "forged signature", "-", f"{r.status_code} {r.json()['code']}"))

        with console.status("waiting for queued events to be delivered..."):
            expected = {
                "ship-order": 2,
                "thumbnail": 1,
                "on-order-change": 2,
                "nightly-report": 1,
                "billing-webhook": 1,
            }
            done = wait_for(
                lambda: all(len(_ok(control, fn)) >= n for fn, n in expected.items()), 30
            )
        for fn, trigger in (
            ("ship-order", "topic"),
            ("on-order-change", "table"),
            ("thumbnail", "object"),
            ("nightly-report", "schedule"),
            ("billing-webhook", "webhook"),
        ):
            for inv in _ok(control, fn):
                first = (inv["logs"].strip().splitlines() or [""])[-1].split(" (message")[0]
                rows.append(
                    (
                        trigger,
                        f"queued {trigger} event",
                        fn,
                        f"{inv['status']} in {inv['duration_ms']:.1f} ms: {first}",
                    )
                )

        label = control.get("/v1/objects/labels/o-1001.txt").text.splitlines()[0]
        report = control.get("/v1/objects/reports/nightly.json").json()
        rows.append(("state", "labels/o-1001.txt", "ship-order", label))
        rows.append(("state", "reports/nightly.json", "nightly-report", json.dumps(report)))
        denied = [
            e
            for e in control.get("/v1/audit", params={"limit": 1000}).json()["events"]
            if e["decision"] == "deny"
        ]
        rows.append(("audit", "security decisions denied", "-", str(len(denied))))
        sandbox = control.get("/v1/status").json()["sandbox"]
        on = [x["name"] for x in sandbox["layers"] if x["available"]]
        rows.append(("sandbox", "layers around every worker", "-",
                     ("complete: " if sandbox["complete"] else "DEGRADED: ") + ", ".join(on)))

        table = Table(title="what happened", show_lines=False)
        for col in ("trigger", "event", "function", "result"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        if not done:
            console.print("[red]some deliveries did not arrive in time[/]")
            return 1
        if not sandbox["complete"]:
            console.print("[red]the sandbox is degraded on this machine (see ramparts status)[/]")
            return 1
        console.print("[bold green]demo complete[/]: every trigger kind ran in a sandboxed worker")
        return 0
    finally:
        gateway.close()
        control.close()
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
        console.print("node stopped")


def _healthy(control: httpx.Client) -> bool:
    try:
        return control.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _ok(control: httpx.Client, fn: str) -> list[dict[str, Any]]:
    rows = control.get(f"/v1/functions/{fn}/logs").json().get("invocations", [])
    return [r for r in rows if r["status"] == "ok"]


def _stderr(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.kill()
    return (proc.stderr.read() if proc.stderr else "")[-2000:]


if __name__ == "__main__":
    sys.exit(main())
