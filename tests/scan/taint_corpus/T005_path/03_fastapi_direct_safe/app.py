"""RP-T005 (path), safe twin: fastapi request data reaches the sink directly."""

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    name = value.replace("/", "-").replace("\\", "-")
    result = os.remove(f"/tmp/cache/{name}")  # safe: RP-T005
    return {"ok": True}
