"""Control-API route for alerts raised by detection rules (``ramparts.respond``).

``GET /v1/alerts?since=EPOCH&severity=S&limit=N`` lists alerts first raised at
or after ``since``, at severity ``S`` or above, newest first, with the
detection pipeline's counters (records evaluated, pending, dropped).  Admin
token only, like every control route.
"""

from __future__ import annotations

import asyncio
import math

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse, _node
from ramparts.errors import InvalidRequest
from ramparts.respond.alerts import public
from ramparts.respond.rules import SEVERITIES, SEVERITY_RANK

MAX_LIMIT = 1000


async def list_alerts(request: Request) -> JSONResponse:
    node = _node(request)
    q = request.query_params
    since = 0.0
    if q.get("since"):
        try:
            since = float(q["since"])
        except ValueError:
            since = math.nan
        if not math.isfinite(since) or since < 0:
            raise InvalidRequest(
                "since must be a Unix time in seconds", code="invalid_since"
            )
    severities = None
    if q.get("severity"):
        level = q["severity"].lower()
        if level not in SEVERITY_RANK:
            raise InvalidRequest(
                f"severity must be one of: {', '.join(SEVERITIES)}", code="invalid_severity"
            )
        severities = list(SEVERITIES[SEVERITY_RANK[level]:])
    raw_limit = q.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit")
    # An AlertStore capability of the SQL store, passed through the sealing wrapper.
    list_alerts = node.store.list_alerts  # type: ignore[attr-defined]
    rows = await asyncio.to_thread(list_alerts, since, severities, int(raw_limit))
    return JSONResponse(
        {"alerts": [public(r) for r in rows], "detections": node.detections.stats()}
    )


def alert_routes() -> list[Route]:
    return [Route("/v1/alerts", list_alerts)]
