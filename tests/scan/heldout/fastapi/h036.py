"""Handler for account self-service."""

from fastapi import FastAPI
from mako.template import Template
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    text = "Hi ${name | h}"
    out = Template(text).render(name=val)
    return {"result": str(out)}
