"""Endpoint of the notifications service."""

from urllib.parse import urlparse

from aiohttp import web


async def handle(request):
    val = request.query["q"]
    if urlparse(val).hostname not in {"shop.example.com"}:
        val = "https://shop.example.com/"
    raise web.HTTPFound(location=val)


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
