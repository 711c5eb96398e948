"""The engine's memo of short values: it saves work, never a finding or a limit.

A value seen before (a client's user agent, a JSON key, a repeated field) is
looked up before it is decoded or turned into a target; these tests pin that
a remembered value is judged exactly as a fresh one would be, wherever it
appears, and that remembered values still count against the request's limits.
"""

from __future__ import annotations

import json
import random
import re

from ramparts.gateway.waf.decode import fold
from ramparts.gateway.waf.engine import Waf, compile_exclusion
from ramparts.gateway.waf.request import Limits, WafRequest, extract

SQLI = "1' OR '1'='1"


def _body(doc: object, headers: list[tuple[str, str]] | None = None) -> WafRequest:
    return WafRequest("POST", "/api/x", "", [("content-type", "application/json"),
                                             *(headers or [])],
                      json.dumps(doc).encode(), "application/json", "POST /api/x")


def test_a_remembered_finding_reports_each_requests_own_location() -> None:
    waf = Waf()
    first = waf.inspect(_body({"items": [{"note": SQLI}]}))
    again = waf.inspect(_body({"orders": [{"x": 1}, {"lines": [{"n": "ok"}, {"n": SQLI}]}]}))
    assert first.blocked and again.blocked
    assert {m.location for m in first.matches} == {"$.items[0].note"}
    assert {m.location for m in again.matches} == {"$.orders[1].lines[1].n"}


def test_a_value_clean_in_one_place_is_judged_afresh_in_another() -> None:
    # An address header is not inspected by the header:x-* rules; the same text in a custom
    # header or a body field is.  Remembering it clean as the one must not clear the other.
    waf = Waf()
    internal = "http://169.254.169.254/latest/meta-data/"
    as_host = waf.inspect(_body({}, [("x-real-ip", internal)]))
    as_field = waf.inspect(_body({"url": internal}))
    assert as_field.blocked, (as_host, as_field)
    assert {m.location for m in as_field.matches} == {"$.url"}


def test_a_remembered_value_under_an_exclusion_stays_excluded_only_there() -> None:
    waf = Waf(exclusions=[compile_exclusion("POST /api/x", "$.comment", ["sqli"])])
    for _ in range(2):  # the second time from the memo
        assert not waf.inspect(_body({"comment": SQLI})).blocked
        assert waf.inspect(_body({"title": SQLI})).blocked


def test_remembered_clean_values_still_count_against_the_target_limit() -> None:
    waf = Waf(limits=Limits(max_targets=10))
    padded = _body({"a": ["same value"] * 30})
    for _ in range(3):  # every pass after the first finds the values in the memo
        verdict = waf.inspect(padded)
        assert [m.rule for m in verdict.matches] == ["protocol-inspection-limit"]


def test_remembered_clean_values_still_count_against_the_byte_limit() -> None:
    waf = Waf(limits=Limits(max_bytes=2000))
    padded = _body([f"{'word ' * 40}" for _ in range(20)])  # one 200-char value, 20 times
    for _ in range(3):
        verdict = waf.inspect(padded)
        assert [m.rule for m in verdict.matches] == ["protocol-inspection-limit"]


def test_numbers_nested_past_the_depth_limit_still_overflow() -> None:
    doc: object = 1
    for _ in range(70):
        doc = [doc]
    _, overflow = extract(_body(doc))
    assert overflow is not None and "nested deeper" in overflow


def test_json_locations_are_spelled_as_before() -> None:
    waf = Waf()
    doc = {"a.b": [{"c": [0, SQLI]}], "k": {"0": {"x y": "<script>alert(1)</script>"}}}
    locations = {m.location for m in waf.inspect(_body(doc)).matches}
    assert locations == {"$.a.b[0].c[1]", "$.k.0.x y"}


def test_fold_collapses_every_whitespace_run_as_before() -> None:
    # fold() leaves lone spaces alone (cheaper); the result is that of \s+ -> " " everywhere
    rnd = random.Random(7)
    chars = [" ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\x85", "a", "B", "/*", "*/"]
    for _ in range(5_000):
        value = "".join(rnd.choice(chars) for _ in range(rnd.randint(0, 12)))
        lowered = value.lower()
        if "/*" in lowered:
            lowered = re.sub(r"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/", " ", lowered)
        assert fold(value) == re.sub(r"\s+", " ", lowered), repr(value)
