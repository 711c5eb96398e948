"""RP-T013 (xxe), safe twin: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request
from lxml import etree

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    result = etree.fromstring(value.encode(), parser)  # safe: RP-T013
    return {"ok": True}
