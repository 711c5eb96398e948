"""View used by the admin back office."""

import html

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    name = html.escape(val)
    return HTMLResponse(f"<h2>Welcome back, {name}</h2>")


app = Starlette(routes=[Route("/lookup", lookup)])
