"""View used by the admin back office."""

import pickle

from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    upload = form["file"]
    content = upload.file.read()
    out = pickle.loads(content)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
