"""RP-L007 (weak-hash), safe twin: fastapi body request data reaches the sink directly."""

import hashlib

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    value = request.headers["x-item"]
    content = value
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(content.encode())  # safe: RP-L007
    result = digest.hexdigest()
    return {"ok": True}
