"""Handler of the catalogue service."""

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
    h = hashlib.new("sha256")
    h.update(reset_secret.encode())
    out = h.hexdigest()
    return {"result": str(out)}
