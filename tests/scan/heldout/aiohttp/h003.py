"""Endpoint of the notifications service."""

from aiohttp import web
from lxml import etree


async def submit(request):
    form = await request.post()
    val = form["value"]
    upload = form["file"].file.read()
    out = etree.XML(upload, etree.XMLParser(resolve_entities=True)).tag
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
