"""Webhook and integration endpoint."""

from aiohttp import web


async def handle(request):
    val = request.query["q"]
    raise web.HTTPFound(location=val)


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
