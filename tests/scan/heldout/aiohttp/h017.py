"""Endpoint of the customer portal."""

import hashlib

import bcrypt
from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    password = form["password"]
    pw_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    out = pw_hash
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
