"""Handler of the reporting API."""

import secrets

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    resp = web.json_response({"ok": True})
    resp.set_cookie("sessionid", secrets.token_hex(16), max_age=86400)
    return resp


app = web.Application()
app.add_routes([web.post("/submit", submit)])
