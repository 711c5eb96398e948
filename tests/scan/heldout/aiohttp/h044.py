"""Endpoint of the customer portal."""

from aiohttp import web
from motor.motor_asyncio import AsyncIOMotorClient


async def ingest(request):
    data = await request.json()
    val = data["value"]
    coll = AsyncIOMotorClient("mongodb://db").shop.orders
    out = await coll.find_one({"order_id": str(val)})
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
