"""RP-L005 (tls-verify), safe twin: starlette request data reaches the sink directly."""

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    value = request.query_params["q"]
    with httpx.Client(verify=True, timeout=5) as client:  # safe: RP-L005
        result = client.get("https://billing.internal/invoices", params={"id": value}).json()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
