"""RP-L006 (hardcoded-credential), vulnerable: fastapi request data reaches the sink through a list and a loop."""

import redis
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    values = []
    values.append(q)
    for value in values:
        cache = redis.Redis(host="cache.internal", port=6379, password="r3d1s-L1ve-9f8e7d")  # expect: RP-L006 CWE-798
        result = cache.get("item:" + value)
    return {"ok": True}
