"""Endpoint of the notifications service."""

import base64
import marshal

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    blob = base64.b64decode(val)
    out = marshal.loads(blob)
    return {"result": str(out)}
