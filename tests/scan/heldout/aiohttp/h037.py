"""Endpoint of the customer portal."""

import os
import shlex

from aiohttp import web


async def handle(request):
    val = request.query["q"]
    files = val.split(",")
    args = " ".join(shlex.quote(f) for f in files)
    stream = os.popen("wc -l " + args)
    out = stream.read()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
