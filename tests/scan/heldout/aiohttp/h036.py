"""Endpoint of the billing service."""

import secrets

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    session_id = secrets.token_urlsafe(32)
    out = {"session": session_id}
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
