"""View used by the admin back office."""

from aiohttp import web
from aiohttp_session import get_session


async def submit(request):
    form = await request.post()
    val = form["value"]
    session = await get_session(request)
    session["locale"] = val
    out = "ok"
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
