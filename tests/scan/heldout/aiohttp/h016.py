"""Endpoint of the customer portal."""

import aiohttp
from aiohttp import web


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


async def ingest(request):
    data = await request.json()
    val = data["value"]
    feed = data.get("feed_url", val)
    async with aiohttp.ClientSession() as session:
        async with session.get(feed) as resp:
            out = await resp.text()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
