"""RP-L006 (hardcoded-credential), vulnerable: fastapi path request data reaches the sink through a dict."""

import redis
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    cache = redis.Redis(host="cache.internal", port=6379, password="r3d1s-L1ve-9f8e7d")  # expect: RP-L006 CWE-798
    result = cache.get("item:" + value)
    return {"ok": True}
