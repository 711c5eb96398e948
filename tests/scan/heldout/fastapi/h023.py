"""Handler of the reporting API."""

import defusedxml.lxml
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    raw = await request.body()
    tree = defusedxml.lxml.fromstring(raw)
    out = tree.tag
    return {"result": str(out)}
