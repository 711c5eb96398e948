"""RP-T004 (deserialize), vulnerable: fastapi path request data reaches the sink directly."""

import base64
import pickle

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    result = pickle.loads(base64.b64decode(value))  # expect: RP-T004 CWE-502
    return {"ok": True}
