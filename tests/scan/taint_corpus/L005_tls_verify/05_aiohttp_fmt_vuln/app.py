"""RP-L005 (tls-verify), vulnerable: aiohttp request data reaches the sink through str.format."""

import requests
from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    value = "{}".format(form["name"]).strip()
    result = requests.get("https://inventory.internal/api/items", params={"q": value}, verify=False, timeout=5).json()  # expect: RP-L005 CWE-295
    return web.json_response({"ok": True})
