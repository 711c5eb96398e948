"""RP-T013 (xxe), vulnerable: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request
from lxml import etree

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    parser = etree.XMLParser(resolve_entities=True)
    result = etree.fromstring(value.encode(), parser)  # expect: RP-T013 CWE-611
    return {"ok": True}
