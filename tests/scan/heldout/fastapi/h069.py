"""View used by the admin back office."""

import base64
import json

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    blob = base64.b64decode(val)
    out = json.loads(blob)
    return {"result": str(out)}
