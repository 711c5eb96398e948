"""Request handler for the orders service."""

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    resp = web.json_response({"result": data})
    resp.headers.update({"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true"})
    return resp


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
