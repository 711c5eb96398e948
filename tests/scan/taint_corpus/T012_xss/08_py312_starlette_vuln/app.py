"""RP-T012 (xss), vulnerable, Python 3.12 syntax: nested f-strings with the same quotes."""

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route


async def greet(request):
    names = request.query_params.getlist("name")
    return HTMLResponse(f"<ul>{"".join(f"<li>{n}</li>" for n in names)}</ul>")  # expect: RP-T012 CWE-79


app = Starlette(routes=[Route("/greet", greet)])
