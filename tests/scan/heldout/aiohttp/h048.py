"""Handler of the reporting API."""

import hashlib

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    password = form["password"]
    pw_hash = hashlib.sha1(password.encode()).hexdigest()
    out = pw_hash
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
