"""Request handler for the orders service."""

import secrets

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    response = JSONResponse({"ok": True})
    response.set_cookie("auth", secrets.token_urlsafe(16))
    return response


app = Starlette(routes=[Route("/lookup", lookup)])
