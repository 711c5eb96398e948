"""RP-T012 (xss), safe twin, Python 3.12 syntax: every name is escaped."""

import html

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route


async def greet(request):
    names = request.query_params.getlist("name")
    return HTMLResponse(f"<ul>{"".join(f"<li>{html.escape(n)}</li>" for n in names)}</ul>")  # safe: RP-T012


app = Starlette(routes=[Route("/greet", greet)])
