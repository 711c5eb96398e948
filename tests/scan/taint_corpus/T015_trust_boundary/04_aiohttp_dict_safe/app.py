"""RP-T015 (trust-boundary), safe twin: aiohttp request data reaches the sink through a dict."""

from aiohttp import web
from aiohttp_session import get_session

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    params = {"value": data["value"], "page": 1}
    value = params["value"]
    session = await get_session(request)
    session["user_id"] = int(value)  # safe: RP-T015
    return web.json_response({"ok": True})
