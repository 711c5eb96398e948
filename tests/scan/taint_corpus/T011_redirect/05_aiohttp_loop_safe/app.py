"""RP-T011 (redirect), safe twin: aiohttp request data reaches the sink through a list and a loop."""

from urllib.parse import urlparse

from aiohttp import web

ALLOWED_HOSTS = {"shop.example.com", "accounts.example.com"}
routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    values = []
    values.append(request.query["q"])
    for value in values:
        if urlparse(value).hostname not in ALLOWED_HOSTS:
            raise ValueError("redirect target not allowed")
        result = web.Response(status=302, headers={"Location": value})  # safe: RP-T011
    return result
