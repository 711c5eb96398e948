"""RP-L008 (weak-random), vulnerable: fastapi path request data reaches the sink through a dict."""

import random

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    session_token = "%032x" % random.getrandbits(128)  # expect: RP-L008 CWE-330
    result = {value: session_token}
    return {"ok": True}
