"""RP-L007 (weak-hash), safe twin: fastapi request data reaches the sink through a dict."""

import hashlib

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    api_token = value
    result = hashlib.sha256(api_token.encode()).hexdigest()  # safe: RP-L007
    return {"ok": True}
