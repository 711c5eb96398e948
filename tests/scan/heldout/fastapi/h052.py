"""Handler of the reporting API."""

import secrets

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    response = JSONResponse({"ok": True})
    response.set_cookie(key="session", value=secrets.token_urlsafe(24), httponly=False, secure=False)
    return response
