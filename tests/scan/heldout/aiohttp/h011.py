"""Request handler for the orders service."""

import random

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    session_id = str(random.random())[2:]
    out = {"session": session_id}
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
