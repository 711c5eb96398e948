"""RP-L009 (cookie-flags), vulnerable: starlette request data reaches the sink through a dict."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    params = {"value": request.query_params["q"], "page": 1}
    value = params["value"]
    result = JSONResponse({"ok": True})
    result.set_cookie("session", value, secure=False)  # expect: RP-L009 CWE-614
    return result


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
