"""Endpoint of the customer portal."""

from urllib.parse import urlparse

import aiohttp
from aiohttp import web


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


async def ingest(request):
    data = await request.json()
    val = data["value"]
    feed = data.get("feed_url", val)
    if urlparse(feed).hostname not in ALLOWED_HOSTS:
        raise web.HTTPBadRequest()
    async with aiohttp.ClientSession() as session:
        async with session.get(feed) as resp:
            out = await resp.text()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
