"""Endpoint of the notifications service."""

from fastapi import FastAPI, Request
from lxml import etree

app = FastAPI()


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    raw = await request.body()
    tree = etree.fromstring(raw, etree.XMLParser(load_dtd=True, resolve_entities=True))
    out = tree.tag
    return {"result": str(out)}
