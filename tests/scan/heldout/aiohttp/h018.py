"""Webhook and integration endpoint."""

import json

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    upload = form["file"]
    content = upload.file.read()
    out = json.loads(content)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
