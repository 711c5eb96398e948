"""RP-T009 (xpath), safe twin: aiohttp request data reaches the sink through str.format."""

from aiohttp import web
from lxml import etree

USERS = etree.parse("/srv/data/users.xml")
routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    value = "{}".format(request.query["q"]).strip()
    result = USERS.xpath("//user[name=$name]/email/text()", name=value)  # safe: RP-T009
    return web.json_response({"ok": True})
