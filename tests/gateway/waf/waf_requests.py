"""WAF requests for engine tests: a value in a JSON field, a query parameter or a header."""

from __future__ import annotations

import json
from urllib.parse import quote

from ramparts.gateway.waf.request import WafRequest


def json_request(value: object, field: str = "f", *, deep: bool = False) -> WafRequest:
    """``{field: value}`` as a JSON body; ``deep`` nests it as ``$.data.config[0].field``."""
    doc: object = {field: value}
    if deep:
        doc = {"id": 7, "data": {"config": [doc]}}
    body = json.dumps(doc).encode()
    return WafRequest("POST", "/api/x", "", [("content-type", "application/json")], body,
                      "application/json", "POST /api/x")


def query_request(value: str) -> WafRequest:
    """``?q=value``, percent-encoded."""
    return WafRequest("GET", "/api/x", f"q={quote(value, safe='')}", [], b"", "", "GET /api/x")


def header_request(name: str, value: str) -> WafRequest:
    """A GET with one header."""
    return WafRequest("GET", "/", "", [(name, value)], b"", "", "GET /")
