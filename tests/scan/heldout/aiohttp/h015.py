"""Endpoint of the notifications service."""

import jwt
from aiohttp import web


KEY = open("/etc/keys/es256.pub").read()


async def handle(request):
    val = request.query["q"]
    auth = request.headers.get("Authorization", "")
    claims = jwt.decode(auth[7:], KEY, algorithms=None, options={"verify_signature": False})
    out = claims.get("tenant")
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
