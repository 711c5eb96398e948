"""RP-T003 (sql), vulnerable: aiohttp request data reaches the sink through a helper in helpers.py."""

from aiohttp import web
from helpers import process

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    process(request.query["q"])
    return web.json_response({"ok": True})
