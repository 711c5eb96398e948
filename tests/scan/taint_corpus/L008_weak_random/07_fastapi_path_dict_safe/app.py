"""RP-L008 (weak-random), safe twin: fastapi path request data reaches the sink through a dict."""

import secrets

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    session_token = secrets.token_hex(16)  # safe: RP-L008
    result = {value: session_token}
    return {"ok": True}
