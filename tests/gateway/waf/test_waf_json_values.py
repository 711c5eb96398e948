"""The WAF's body reader counts a JSON text's values before it parses it.

The gateway refuses ``application/json`` bodies with too many values before the
WAF sees them; a JSON text sent as ``text/plain`` (or to a webhook, which the WAF
reads unparsed) is parsed by the WAF itself, so it applies the same count: past
``Limits.max_json_values`` it parses nothing and ``protocol-inspection-limit``
fires (fail closed), as for its other limits.
"""

from __future__ import annotations

import pytest

from ramparts.gateway.waf.engine import Waf
from ramparts.gateway.waf.request import WafRequest

WAF = Waf()


def _request(body: bytes, ctype: str) -> WafRequest:
    return WafRequest("POST", "/x", "", [("content-type", ctype)], body, ctype, "POST /x")


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", ""])
def test_a_json_text_of_many_empty_containers_is_not_parsed_and_fires_the_limit(
    ctype: str,
) -> None:
    bomb = b"[" + b",".join([b"[]"] * 200_000) + b"]"
    verdict = WAF.inspect(_request(bomb, ctype))
    assert verdict.blocked
    assert [m.rule for m in verdict.matches] == ["protocol-inspection-limit"]


def test_a_json_text_within_the_count_is_read_field_by_field() -> None:
    body = b'[[], {}, {"note": "<script>alert(1)</script>"}]'
    verdict = WAF.inspect(_request(body, "text/plain"))
    assert verdict.blocked
    assert "protocol-inspection-limit" not in {m.rule for m in verdict.matches}
