"""Endpoint of the customer portal."""

import html

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    name = val
    return HTMLResponse(f"<h2>Welcome back, {name}</h2>")


app = Starlette(routes=[Route("/lookup", lookup)])
