"""View used by the admin back office."""

import jinja2
from aiohttp import web


async def handle(request):
    val = request.query["q"]
    subject = val
    source = "Subject: {}".format(subject)
    out = jinja2.Template(source).render()
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
