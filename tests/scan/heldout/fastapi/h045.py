"""Endpoint of the customer portal."""

import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    reset_secret = item.value
    h = hashlib.new("md5")
    h.update(reset_secret.encode())
    out = h.hexdigest()
    return {"result": str(out)}
