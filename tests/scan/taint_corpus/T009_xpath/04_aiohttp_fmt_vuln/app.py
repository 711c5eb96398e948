"""RP-T009 (xpath), vulnerable: aiohttp request data reaches the sink through str.format."""

from aiohttp import web
from lxml import etree

USERS = etree.parse("/srv/data/users.xml")
routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    value = "{}".format(request.query["q"]).strip()
    result = USERS.xpath("//user[name='" + value + "']/email/text()")  # expect: RP-T009 CWE-643
    return web.json_response({"ok": True})
