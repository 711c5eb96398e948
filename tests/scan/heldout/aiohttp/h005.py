"""Handler for account self-service."""

import asyncpg
from aiohttp import web


async def handle(request):
    val = request.query["q"]
    conn = await asyncpg.connect("postgresql://app@db/app")
    order = val
    out = await conn.fetch("SELECT * FROM items ORDER BY %s" % order)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
