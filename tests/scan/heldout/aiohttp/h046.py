"""Endpoint of the billing service."""

import aiohttp_cors
from aiohttp import web


cors = aiohttp_cors.setup(web.Application(), defaults={
    "*": aiohttp_cors.ResourceOptions(allow_credentials=True, expose_headers="*", allow_headers="*"),
})


async def handle(request):
    val = request.query["q"]
    out = val
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
