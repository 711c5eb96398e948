"""RP-T009 (xpath), vulnerable: fastapi path request data reaches the sink through a list and a loop."""

from fastapi import FastAPI
from lxml import etree

USERS = etree.parse("/srv/data/users.xml")
app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    values = []
    values.append(item_id)
    for value in values:
        result = USERS.xpath("//user[name='" + value + "']/email/text()")  # expect: RP-T009 CWE-643
    return {"ok": True}
