"""Endpoint of the billing service."""

import os

from aiohttp import web


async def handle(request):
    val = request.query["q"]
    files = val.split(",")
    args = " ".join(files)
    stream = os.popen("wc -l " + args)
    out = stream.read()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
