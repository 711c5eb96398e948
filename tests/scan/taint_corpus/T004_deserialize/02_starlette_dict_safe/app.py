"""RP-T004 (deserialize), safe twin: starlette request data reaches the sink through a dict."""

import yaml
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    params = {"value": request.path_params["name"], "page": 1}
    value = params["value"]
    result = yaml.load(value, Loader=yaml.SafeLoader)  # safe: RP-T004
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
