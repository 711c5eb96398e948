"""RP-T004 (deserialize), safe twin: fastapi path request data reaches the sink directly."""

import base64
import json

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    result = json.loads(base64.b64decode(value))  # safe: RP-T004
    return {"ok": True}
