"""RP-T007 (template), vulnerable: starlette request data reaches the sink directly."""

import jinja2
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    value = request.query_params["q"]
    result = jinja2.Template("Hello " + value + "!").render()  # expect: RP-T007 CWE-1336
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
