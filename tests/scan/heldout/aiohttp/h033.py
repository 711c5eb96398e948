"""Endpoint of the notifications service."""

import aiosqlite
from aiohttp import web


async def item(request):
    val = request.match_info["name"]
    async with aiosqlite.connect("app.db") as db:
        cursor = await db.execute(f"DELETE FROM sessions WHERE user = '{val}'")
        out = cursor.rowcount
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
