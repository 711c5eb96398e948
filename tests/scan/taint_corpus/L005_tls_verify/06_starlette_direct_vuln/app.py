"""RP-L005 (tls-verify), vulnerable: starlette request data reaches the sink directly."""

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    value = request.query_params["q"]
    with httpx.Client(verify=False, timeout=5) as client:  # expect: RP-L005 CWE-295
        result = client.get("https://billing.internal/invoices", params={"id": value}).json()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
