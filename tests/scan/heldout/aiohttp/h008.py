"""Handler of the catalogue service."""

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    formula = f"{data['a']} {val} {data['b']}"
    out = eval(formula)
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
