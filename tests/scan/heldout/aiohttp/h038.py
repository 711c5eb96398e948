"""Request handler for the orders service."""

import operator

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    formula = f"{data['a']} {val} {data['b']}"
    out = {"+": operator.add, "-": operator.sub}[val](int(data['a']), int(data['b']))
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
