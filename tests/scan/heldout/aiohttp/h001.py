"""Handler for account self-service."""

import secrets

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    resp = web.json_response({"ok": True})
    resp.set_cookie("sessionid", secrets.token_hex(16), max_age=86400, secure=True, httponly=True, samesite="Strict")
    return resp


app = web.Application()
app.add_routes([web.post("/submit", submit)])
