"""RP-T013 (xxe), vulnerable: fastapi path request data reaches the sink directly."""

from fastapi import FastAPI
from lxml import etree

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    parser = etree.XMLParser(resolve_entities=True)
    result = etree.fromstring(value.encode(), parser)  # expect: RP-T013 CWE-611
    return {"ok": True}
