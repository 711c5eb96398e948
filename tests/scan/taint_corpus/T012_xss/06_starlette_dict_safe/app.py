"""RP-T012 (xss), safe twin: starlette request data reaches the sink through a dict."""

import html

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route


async def item_endpoint(request):
    form = await request.form()
    params = {"value": form["name"], "page": 1}
    value = params["value"]
    result = HTMLResponse("<li>" + html.escape(value) + "</li>")  # safe: RP-T012
    return result


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
