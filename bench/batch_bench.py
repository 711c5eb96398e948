"""Topic events delivered per second on the embedded bus: ``batch_size: 1`` vs ``10``.

    .venv/bin/python bench/batch_bench.py [--events 20000] [--rounds 3] [--write]

For each batch size, a throwaway node (``ramparts up``, embedded bus, real workers)
gets an app whose function subscribes to a topic with that ``batch_size``.  The
node is stopped, ``--events`` topic deliveries are written straight into the
function's queue in the bus file (so publishing does not limit the rate being
measured), and the node is started again.  The handler notes the wall-clock
time when it sees the first message and the last one (enqueued last; first
deliveries are in enqueue order, so up to ``concurrency x batch_size``
messages may still be in flight then).  Rate = events / (last - first).
Rounds alternate between the two sizes; the median is reported.

Results go to a Rich table and, with ``--write``, to the ``bench:batches``
section of docs/benchmarks.md.  Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _doc import write_section
from rich.console import Console
from rich.table import Table
from run import ROOT, Ramparts, http_get

from ramparts.bus import open_bus
from ramparts.bus.base import OutgoingMessage
from ramparts.config import ensure_node_identity
from ramparts.crypto.seams import SealedBus
from ramparts.crypto.vault import open_vault
from ramparts.events.subscriptions import Subscription, encode_body, queue_for
from ramparts.store import open_store

console = Console(width=None if sys.stdout.isatty() else 120)
APP = "bench-batch"
FUNCTION = "sink"
TOPIC = "firehose"

HANDLER = """
import time


def handler(event, context):
    for record in event["Records"]:
        if record["body"] in ('"first"', '"last"'):
            context.kv.put("bench", record["body"].strip('"'), {"t": time.time()})
"""


def _app(root: Path, batch_size: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ramparts.yaml").write_text(textwrap.dedent(f"""
        app: {APP}
        functions:
          {FUNCTION}:
            handler: h.py:handler
            concurrency: 4
            role:
              statements:
                - {{effect: allow, actions: ["kv:PutItem"], resources: ["kv:bench/*"]}}
            triggers:
              - topic: {{name: {TOPIC}, batch_size: {batch_size}}}
        """))
    (root / "h.py").write_text(HANDLER)
    return root


async def _preload(data_dir: Path, events: int) -> None:
    """Enqueue as the stopped node would: sealed under its vault, as its consumer."""
    raw_store = open_store(f"sqlite:///{data_dir / 'state.db'}")
    vault = open_vault(raw_store, data_dir)
    inner = open_bus(f"embedded://{data_dir / 'bus.db'}", consumer=ensure_node_identity(data_dir))
    bus = SealedBus(inner, vault.sealer)
    await bus.open()
    try:
        sub = Subscription(FUNCTION, APP, 0, "topic", None)
        bodies = ['"first"', *(json.dumps({"n": n}) for n in range(events - 2)), '"last"']
        for start in range(0, len(bodies), 2000):
            await bus.enqueue_many([
                OutgoingMessage(queue_for(FUNCTION),
                                encode_body("topic", sub, APP, FUNCTION, TOPIC, body),
                                {"kind": "topic"})
                for body in bodies[start:start + 2000]
            ])
    finally:
        await bus.close()
        raw_store.close()


def _mark(node: Ramparts, name: str) -> float | None:
    status, body = http_get(node.admin_port, f"/v1/kv/bench/{name}?app={APP}",
                            headers={"authorization": f"Bearer {node.token()}"})
    return json.loads(body)["item"]["t"] if status == 200 else None


def one_round(work: Path, batch_size: int, events: int) -> float:
    node = Ramparts(work)
    node.start()
    try:
        node.deploy(_app(work / "app", batch_size))
    finally:
        node.stop()
    asyncio.run(_preload(node.data_dir, events))
    node.start()
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            first, last = _mark(node, "first"), _mark(node, "last")
            if first is not None and last is not None:
                return events / max(last - first, 1e-6)
            time.sleep(0.2)
        raise RuntimeError(f"the last event was not delivered within 600 s:\n{node.server.tail()}")
    finally:
        node.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args(argv)
    sizes = (1, 10)
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rates: dict[int, list[float]] = {s: [] for s in sizes}
    with tempfile.TemporaryDirectory(prefix="ramparts-batch-bench-") as tmp:
        for r in range(args.rounds):
            for size in sizes:
                rate = one_round(Path(tmp) / f"r{r}-b{size}", size, args.events)
                rates[size].append(rate)
                console.print(f"round {r + 1}: batch_size {size}: {rate:,.0f} events/s")
    med = {s: statistics.median(v) for s, v in rates.items()}
    table = Table(title=f"topic events delivered per second ({args.events:,} events, embedded bus)")
    table.add_column("batch_size")
    table.add_column("events/s (median)", justify="right")
    table.add_column("rounds", justify="right")
    for s in sizes:
        table.add_row(str(s), f"{med[s]:,.0f}", ", ".join(f"{x:,.0f}" for x in rates[s]))
    console.print(table)
    if args.write:
        lines = [
            "## Topic delivery with batches",
            "",
            f"`bench/batch_bench.py --events {args.events} --rounds {args.rounds}`, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs ({platform.machine()}). {args.events:,} topic messages "
            "preloaded into the embedded bus, delivered to a function with `concurrency: 4` "
            "whose handler does nothing per record; rate from the handler's first to last "
            "record (wall clock), median of the rounds. Target: 5,000 events/s with batches. "
            f"Load average at start: {loadavg} (the machine is shared; single rounds vary "
            "by 2x or more).",
            "",
            "| batch_size | events/s (median) | rounds |",
            "|---|---:|---|",
            *(f"| {s} | {med[s]:,.0f} | {', '.join(f'{x:,.0f}' for x in rates[s])} |"
              for s in sizes),
            "",
            f"`batch_size: 10` delivers {med[10] / med[1]:.1f}x the events per second of "
            "`batch_size: 1`: one invocation and one lease round-trip carry ten records. "
            + ("The 5,000 events/s target is met."
               if med[10] >= 5000 else
               f"The 5,000 events/s target is not met in this run ({med[10]:,.0f})."),
            "",
            "What the embedded bus fsyncs: a publish (enqueue) is committed with "
            "`synchronous=FULL`, fsynced before it is acknowledged; leases, acks, lease "
            "extensions and retries commit with `synchronous=NORMAL` (in the WAL, not "
            "fsynced: they survive `kill -9`, and a power cut can only undo the last of "
            "them, which redelivers, never loses), and acks that arrive during a commit "
            "share the next one (group commit). Before that change every lease and every "
            "batch's ack paid an fsync, which bounded delivery (3,308 events/s with "
            "`batch_size: 10` and 396 with `1`, in an earlier run on a busier machine).",
        ]
        write_section(args.output, "batches", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
