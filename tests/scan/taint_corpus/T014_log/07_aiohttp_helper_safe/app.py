"""RP-T014 (log), safe twin: aiohttp request data reaches the sink through a helper in helpers.py."""

from aiohttp import web
from helpers import process

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    process(request.match_info["name"])
    return web.json_response({"ok": True})
