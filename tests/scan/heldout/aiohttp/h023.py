"""View used by the admin back office."""

import aiosqlite
from aiohttp import web


async def item(request):
    val = request.match_info["name"]
    async with aiosqlite.connect("app.db") as db:
        cursor = await db.execute("DELETE FROM sessions WHERE user = ?", (val,))
        out = cursor.rowcount
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
