"""Webhook and integration endpoint."""

import logging

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    logging.basicConfig(level=logging.INFO)
    fields = {"email": val}
    fields = {k: v.replace("\n", "\\n").replace("\r", "\\r") for k, v in fields.items()}
    logging.info("newsletter signup: %s" % fields["email"])
    out = "subscribed"
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
