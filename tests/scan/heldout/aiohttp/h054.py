"""Handler of the reporting API."""

import aiohttp
from aiohttp import web


async def handle(request):
    val = request.query["q"]
    async with aiohttp.ClientSession() as session:
        async with session.get("https://geo.example.com/lookup", params={"ip": val}, ssl=False) as resp:
            out = await resp.json()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
