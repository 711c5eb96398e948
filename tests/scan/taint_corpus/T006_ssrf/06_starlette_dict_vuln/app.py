"""RP-T006 (ssrf), vulnerable: starlette request data reaches the sink through a dict."""

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    params = {"value": request.query_params["q"], "page": 1}
    value = params["value"]
    result = httpx.post(f"{value}/hooks/deploy", json={"ok": True})  # expect: RP-T006 CWE-918
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
