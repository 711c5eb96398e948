"""RP-T005 (path), vulnerable: fastapi request data reaches the sink directly."""

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = os.remove(f"/tmp/cache/{value}")  # expect: RP-T005 CWE-22
    return {"ok": True}
