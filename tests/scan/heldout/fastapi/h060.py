"""Handler of the reporting API."""

from fastapi import FastAPI
from lxml import etree
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


TREE = etree.parse("/srv/data/users.xml")


@app.post("/items")
async def create(item: Item):
    val = item.value
    tags = [t.strip() for t in val.split(",")]
    out = []
    for tag in tags:
        out += TREE.xpath("//post[tag=$tag]/@id", tag=tag)
    return {"result": str(out)}
