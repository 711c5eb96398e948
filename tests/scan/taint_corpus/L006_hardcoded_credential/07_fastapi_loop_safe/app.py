"""RP-L006 (hardcoded-credential), safe twin: fastapi request data reaches the sink through a list and a loop."""

import os

import redis
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    values = []
    values.append(q)
    for value in values:
        cache = redis.Redis(host="cache.internal", port=6379, password=os.environ["REDIS_PASSWORD"])  # safe: RP-L006
        result = cache.get("item:" + value)
    return {"ok": True}
