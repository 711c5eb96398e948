"""Handler of the reporting API."""

import traceback

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    try:
        out = data["a"] / data["b"]
    except Exception:
        return web.Response(text=traceback.format_exc(), status=500)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
