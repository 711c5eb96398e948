"""Schedule expressions: classic five-field cron, EventBridge's ``rate()`` and
``cron()`` (UTC), their next fire times, deploy-time refusal, and one firing on
a real node."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ramparts.aws.accounts import account_id
from ramparts.events.cron import ScheduleError, parse_schedule
from tests.conftest import RunningNode, make_app


def _ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


def _fmt(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M %a")


def _fires(expr: str, start: str, n: int) -> list[str | None]:
    sched = parse_schedule(expr)
    out: list[str | None] = []
    now = _ts(start)
    for _ in range(n):
        nxt = sched.next_after(now)
        out.append(_fmt(nxt))
        if nxt is None:
            break
        now = nxt
    return out


# 2026-03-02 is a Monday.
@pytest.mark.parametrize(
    ("expr", "start", "expected"),
    [
        # the classic five-field form keeps working
        ("0 3 * * *", "2026-03-02 04:00", ["2026-03-03 03:00 Tue", "2026-03-04 03:00 Wed"]),
        # rate(): fixed periods on a UTC grid (the same on every node)
        ("rate(5 minutes)", "2026-03-02 10:02", ["2026-03-02 10:05 Mon", "2026-03-02 10:10 Mon"]),
        ("rate(1 minute)", "2026-03-02 10:02", ["2026-03-02 10:03 Mon", "2026-03-02 10:04 Mon"]),
        ("rate(1 hour)", "2026-03-02 10:02", ["2026-03-02 11:00 Mon", "2026-03-02 12:00 Mon"]),
        # day 20514 since the epoch is 2026-03-02: the 2-day grid falls on even days
        ("rate(2 days)", "2026-03-02 10:02", ["2026-03-04 00:00 Wed", "2026-03-06 00:00 Fri"]),
        # AWS's own examples (EventBridge user guide, "Cron expressions")
        ("cron(0 10 * * ? *)", "2026-03-02 10:00", ["2026-03-03 10:00 Tue"]),
        ("cron(15 12 * * ? *)", "2026-03-02 13:00", ["2026-03-03 12:15 Tue"]),
        (
            "cron(0 18 ? * MON-FRI *)",
            "2026-03-06 19:00",
            ["2026-03-09 18:00 Mon", "2026-03-10 18:00 Tue"],
        ),
        ("cron(0 8 1 * ? *)", "2026-03-02 00:00", ["2026-04-01 08:00 Wed"]),
        (
            "cron(0/2 * ? * MON-FRI *)",
            "2026-03-06 23:57",
            ["2026-03-06 23:58 Fri", "2026-03-09 00:00 Mon", "2026-03-09 00:02 Mon"],
        ),
        ("cron(0/5 8-17 ? * MON-FRI *)", "2026-03-02 17:56", ["2026-03-03 08:00 Tue"]),
        # day-of-week 1-7 is SUN-SAT; 2#1 is the first Monday
        ("cron(0 9 ? * 2#1 *)", "2026-03-02 10:00", ["2026-04-06 09:00 Mon"]),
        ("cron(0 9 ? * 1 *)", "2026-03-02 10:00", ["2026-03-08 09:00 Sun"]),
        ("cron(0 9 ? * SAT#3 *)", "2026-03-02 10:00", ["2026-03-21 09:00 Sat"]),
        # L: last day of the month; 6L: the last Friday
        ("cron(0 0 L * ? *)", "2026-02-01 00:00", ["2026-02-28 00:00 Sat", "2026-03-31 00:00 Tue"]),
        ("cron(0 0 ? * 6L *)", "2026-03-01 00:00", ["2026-03-27 00:00 Fri"]),
        # W: the weekday nearest the day (never leaving the month); LW: last weekday
        ("cron(0 0 15W * ? *)", "2026-03-01 00:00", ["2026-03-16 00:00 Mon"]),
        ("cron(0 0 1W * ? *)", "2026-02-02 00:00", ["2026-03-02 00:00 Mon"]),
        ("cron(0 0 LW * ? *)", "2026-05-01 00:00", ["2026-05-29 00:00 Fri"]),
        # the year field, and a schedule with no future left
        ("cron(30 6 1 JAN ? 2028)", "2026-03-02 00:00", ["2028-01-01 06:30 Sat", None]),
        ("cron(0 0 1 1 ? 2020-2025)", "2026-03-02 00:00", [None]),
    ],
)
def test_next_fire_times(expr: str, start: str, expected: list[str | None]) -> None:
    assert _fires(expr, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("rate(0 minutes)", "positive"),
        ("rate(1 minutes)", "minute"),
        ("rate(5 minute)", "minutes"),
        ("rate(10 seconds)", "unit"),
        ("rate(five minutes)", "rate"),
        ("cron(0 10 * * * *)", "?"),
        ("cron(0 10 ? * ? *)", "?"),
        ("cron(0 10 * * ?)", "six fields"),
        ("cron(61 10 * * ? *)", "minutes"),
        ("cron(0 10 32 * ? *)", "day-of-month"),
        ("cron(0 10 ? * 8 *)", "day-of-week"),
        ("cron(0 10 ? * MON#6 *)", "#"),
        ("cron(0 10 ? JAN-FOO * *)", "month"),
        ("cron(0 10 * * ? 1969)", "year"),
        ("at(2026-01-01T00:00:00)", "rate("),
        ("every day", "rate("),
        ("", "rate("),
    ],
)
def test_bad_expressions_are_refused(expr: str, why: str) -> None:
    with pytest.raises(ScheduleError) as exc:
        parse_schedule(expr)
    assert why in str(exc.value)


def test_invalid_schedule_refused_at_deploy_naming_file_and_field(tmp_path: Path) -> None:
    manifest = """
    app: sched-bad
    functions:
      tick:
        handler: h.py:tick
        triggers:
          - schedule: {cron: "cron(0 10 * * * *)"}
    """
    app = make_app(tmp_path / "app", manifest, {"h.py": "def tick(e, c):\n    return 1\n"})
    node = RunningNode(tmp_path / "data")
    out = node.cli("deploy", str(app))
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "ramparts.yaml" in text and "functions.tick.triggers[0].schedule.cron" in text
    assert "Traceback" not in text


MANIFEST = """
app: sched
functions:
  every-minute:
    handler: h.py:tick
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:ticks/*"]}
    triggers:
      - schedule: {cron: "rate(1 minute)"}
  aws-cron:
    handler: h.py:tick
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:ticks/*"]}
    triggers:
      - schedule: {cron: "cron(0/2 * ? * MON-FRI *)"}
"""

HANDLER = """
import json

def tick(event, context):
    context.kv.put("ticks", context.aws_request_id,
                   {"function": context.function_name, "event": json.dumps(event)})
"""

REGION = "eu-west-3"
_LEAD = 10.0  # at least this far before the chosen minute the restarted node's clock starts


def _next_weekday_even_minute(now: float, lead: float) -> float:
    """The closest even minute on a weekday (UTC) at least ``lead`` s away, within a day.

    On a weekend it is Friday 23:58 (behind) or Monday 00:00 (ahead), whichever is
    nearer, so the offset stays inside the one-day bound the node accepts.
    """
    t = (int(now + lead) // 120 + 1) * 120.0
    day = datetime.fromtimestamp(t, UTC)
    if day.weekday() < 5:
        return t
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    monday = midnight + (7 - day.weekday()) * 86400.0
    friday_last = midnight - (day.weekday() - 4) * 86400.0 - 120.0
    return monday if monday - now < now - friday_last else friday_last


@pytest.fixture(scope="module")
def sched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node whose scheduler clock (RAMPARTS_SCHEDULER_CLOCK_OFFSET, test-only) is set
    just before a weekday's even minute, so both schedules fire seconds after its start."""
    base = tmp_path_factory.mktemp("sched")
    first = RunningNode(base / "data", {"RAMPARTS_REGION": REGION})
    began = time.monotonic()
    first.start()
    # A node that takes longer to start than the lead misses the chosen minute and
    # waits two more (on a weekend's Friday 23:58, days): lead by twice its start time.
    lead = max(_LEAD, 2 * (time.monotonic() - began))
    try:
        first.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
    finally:
        first.close()
    now = time.time()
    offset = _next_weekday_even_minute(now, lead) - lead - now
    node = RunningNode(
        base / "data",
        {"RAMPARTS_REGION": REGION, "RAMPARTS_SCHEDULER_CLOCK_OFFSET": f"{offset:.3f}"},
    )
    node.start()
    try:
        yield node
    finally:
        node.close()


def test_rate_and_cron_fire_on_a_real_node(sched: RunningNode) -> None:
    """Both fire at the whole minute of the shifted clock, as EventBridge Scheduled Events."""
    deadline = time.monotonic() + 300
    got: dict[str, dict] = {}
    while time.monotonic() < deadline and len(got) < 2:
        items = sched.control.get("/v1/kv/ticks", params={"app": "sched"}).json()["items"]
        for i in items:
            got.setdefault(i["item"]["function"], json.loads(i["item"]["event"]))
        time.sleep(0.5)
    assert set(got) == {"every-minute", "aws-cron"}, got
    for function, event in got.items():
        assert set(event) == {
            "version", "id", "detail-type", "source", "account", "time", "region",
            "resources", "detail",
        }
        assert event["version"] == "0" and event["detail"] == {}
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["region"] == REGION
        (rule,) = event["resources"]
        assert rule.startswith(f"arn:aws:events:{REGION}:{account_id('sched')}:rule/{function}-")
        fired = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert fired.second == 0  # fired on the minute
    cron_fired = datetime.strptime(got["aws-cron"]["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert cron_fired.minute % 2 == 0 and cron_fired.weekday() < 5  # 0/2, MON-FRI


def test_a_clock_offset_beyond_a_day_is_refused(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_SCHEDULER_CLOCK_OFFSET": "100000"})
    out = subprocess.run(
        node.command(), env=node.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode != 0
    assert "RAMPARTS_SCHEDULER_CLOCK_OFFSET" in out.stderr
    assert "Traceback" not in out.stderr
