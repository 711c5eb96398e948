"""Run-time block list lookups per second, by list size, next to a linear scan, in one process.

    .venv/bin/python bench/waf_lists_bench.py [--rounds 5] [--seconds 0.5]

What the gateway does for every request when the list is not empty:
``BlockList.match(source_ip)`` (parse the address, probe one dict per prefix
length present, compare expiry).  The peer is the obvious alternative, a scan
of ``ipaddress`` networks with ``address in network`` (stopping at the first
hit), over the same entries and the same probes.  The lists mix IPv4 /32, /24
and /16 with IPv6 /128 and /48 entries, a tenth of them expiring; probes are
three quarters misses.  Speed is reported, never asserted; nothing is written.
"""

from __future__ import annotations

import argparse
import ipaddress
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ramparts.gateway.blocklist import BlockList  # noqa: E402
from ramparts.gateway.netset import NetworkSet, parse_network  # noqa: E402
from ramparts.store.base import BlockRecord  # noqa: E402


def _entries(count: int, rng: random.Random) -> list[BlockRecord]:
    now = time.time()
    out: dict[str, BlockRecord] = {}
    while len(out) < count:
        kind = rng.random()
        if kind < 0.6:
            net = ipaddress.ip_network((rng.getrandbits(32), 32))
        elif kind < 0.8:
            net = ipaddress.ip_network((rng.getrandbits(32), 24), strict=False)
        elif kind < 0.85:
            net = ipaddress.ip_network((rng.getrandbits(32), 16), strict=False)
        elif kind < 0.95:
            net = ipaddress.ip_network(((0x2001 << 112) | rng.getrandbits(100), 128))
        else:
            net = ipaddress.ip_network(((0x2001 << 112) | rng.getrandbits(100), 48), strict=False)
        expires = now + 3600 if rng.random() < 0.1 else None
        out[str(net)] = BlockRecord(str(net), now, expires, "", "admin", "", "bench")
    return list(out.values())


def _probes(entries: list[BlockRecord], rng: random.Random, n: int = 4000) -> list[str]:
    probes = []
    for i in range(n):
        if i % 4 == 0 and entries:
            net = ipaddress.ip_network(rng.choice(entries).network)
            probes.append(str(net.network_address + rng.randrange(min(net.num_addresses, 1 << 16))))
        elif i % 8 == 1:
            probes.append(str(ipaddress.IPv6Address((0x2001 << 112) | rng.getrandbits(100))))
        else:
            probes.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
    return probes


class _Static:
    """A ``BlockList`` whose set is filled directly (no store: only the lookup is timed)."""

    def __init__(self, entries: list[BlockRecord]) -> None:
        self.blocks = BlockList(None, node_id="bench")  # type: ignore[arg-type]
        self.blocks._set = NetworkSet((parse_network(e.network), e) for e in entries)  # noqa: SLF001


def _linear(entries: list[BlockRecord]) -> Callable[[str], object]:
    nets = [(ipaddress.ip_network(e.network), e) for e in entries]

    def match(ip: str) -> object:
        address = ipaddress.ip_address(ip)
        now = time.time()
        for net, e in nets:
            if address in net and (e.expires_at is None or e.expires_at > now):
                return e
        return None

    return match


def _rate(fn: Callable[[str], object], probes: list[str], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while True:
        for p in probes:
            fn(p)
        done += len(probes)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(15)
    print(f"# {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}; median of {args.rounds} rounds")
    print("| entries | block list lookups/s | linear scan lookups/s |")
    print("|---:|---:|---:|")
    for size in (0, 100, 1_000, 10_000):
        entries = _entries(size, rng)
        probes = _probes(entries, rng)
        ours = _Static(entries).blocks.match
        scan = _linear(entries) if size <= 1_000 else None
        ours_rates, scan_rates = [], []
        for _ in range(args.rounds):  # interleaved rounds
            ours_rates.append(_rate(ours, probes, args.seconds))
            if scan is not None:
                scan_rates.append(_rate(scan, probes[:200], args.seconds))
        peer = f"{statistics.median(scan_rates):,.0f}" if scan_rates else "(too slow to run)"
        print(f"| {size:,} | {statistics.median(ours_rates):,.0f} | {peer} |")


if __name__ == "__main__":
    main()
