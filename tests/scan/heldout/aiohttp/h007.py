"""Handler of the catalogue service."""

import jinja2
from aiohttp import web


async def handle(request):
    val = request.query["q"]
    subject = val
    source = "Subject: {{ subject }}"
    out = jinja2.Template(source).render(subject=subject)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
