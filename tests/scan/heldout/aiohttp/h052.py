"""Handler of the reporting API."""

import defusedxml.ElementTree as ET
from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    upload = form["file"].file.read()
    out = ET.fromstring(upload).tag
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
