"""RP-L007 (weak-hash), vulnerable: fastapi body request data reaches the sink directly."""

import hashlib

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    value = request.headers["x-item"]
    secret = value
    digest = hashlib.md5()
    digest.update(secret.encode())  # expect: RP-L007 CWE-328
    result = digest.hexdigest()
    return {"ok": True}
