"""RP-T006 (ssrf), safe twin: starlette request data reaches the sink through a dict."""

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

WEBHOOKS = {"ci": "https://ci.example.com", "chat": "https://chat.example.com"}


async def item_endpoint(request):
    params = {"value": request.query_params["q"], "page": 1}
    value = params["value"]
    if value not in WEBHOOKS:
        raise ValueError("unknown webhook")
    result = httpx.post(f"{WEBHOOKS[value]}/hooks/deploy", json={"ok": True})  # safe: RP-T006
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
