"""Webhook and integration endpoint."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    request.session["is_admin"] = val
    out = "ok"
    return JSONResponse({"result": str(out)})


app = Starlette(routes=[Route("/lookup", lookup)])
