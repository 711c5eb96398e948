"""RP-L006 (hardcoded-credential), safe twin: fastapi path request data reaches the sink through a dict."""

import os

import redis
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    cache = redis.Redis(host="cache.internal", port=6379, password=os.environ["REDIS_PASSWORD"])  # safe: RP-L006
    result = cache.get("item:" + value)
    return {"ok": True}
