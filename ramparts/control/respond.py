"""Control-API routes of incident response: quarantines (``ramparts quarantine``).

- ``GET /v1/quarantines`` lists quarantined functions.
- ``POST /v1/quarantines`` ``{"function", "reason"?}`` quarantines one
  (``404 function_not_found``, ``409 already_quarantined``, ``400 invalid_reason``).
- ``DELETE /v1/quarantines/{fn}`` releases it (``404 not_quarantined``).

Admin token only, like every control route; both changes are audited
(``respond.quarantine``, ``respond.release``) by ``ramparts.containment``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse, _json, _node

ADMIN = "admin"


async def list_quarantines(request: Request) -> JSONResponse:
    node = _node(request)
    await node.quarantines.reload()
    return JSONResponse({"quarantines": node.quarantines.public()})


async def add_quarantine(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    out = await node.containment.quarantine(
        data.get("function"), data.get("reason"), principal=ADMIN
    )
    return JSONResponse(out)


async def release_quarantine(request: Request) -> JSONResponse:
    node = _node(request)
    out = await node.containment.release(request.path_params["fn"], principal=ADMIN)
    return JSONResponse(out)


def respond_routes() -> list[Route]:
    return [
        Route("/v1/quarantines", list_quarantines, methods=["GET"]),
        Route("/v1/quarantines", add_quarantine, methods=["POST"]),
        Route("/v1/quarantines/{fn}", release_quarantine, methods=["DELETE"]),
    ]
