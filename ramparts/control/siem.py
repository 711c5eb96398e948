"""Control-API route: the state of each SIEM export destination.

``GET /v1/siem`` -> ``{"enabled": bool, "destinations": [...]}``, one entry
per ``--siem`` URL: state (``ok``, ``sending``, ``failing``), records spooled
and their bytes against the bound, sent, dropped (spool full), failures and
the last error.  Admin token only, like every control route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse

if TYPE_CHECKING:
    from ramparts.node import Node


async def siem_status(request: Request) -> Any:
    node: Node = request.app.state.node
    exporter = node.siem
    return JSONResponse(
        {
            "enabled": exporter is not None,
            "destinations": exporter.status() if exporter is not None else [],
        }
    )


def siem_routes() -> list[Route]:
    return [Route("/v1/siem", siem_status)]
