"""RP-T015 (trust-boundary), safe twin: starlette request data reaches the sink through a list and a loop."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ROLES = {"viewer", "editor"}


async def item_endpoint(request):
    values = []
    values.append(request.path_params["name"])
    for value in values:
        if value not in ROLES:
            raise ValueError("unknown role")
        request.session["role"] = value  # safe: RP-T015
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
