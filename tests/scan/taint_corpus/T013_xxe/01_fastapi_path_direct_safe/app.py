"""RP-T013 (xxe), safe twin: fastapi path request data reaches the sink directly."""

from fastapi import FastAPI
from lxml import etree

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    result = etree.fromstring(value.encode(), parser)  # safe: RP-T013
    return {"ok": True}
