"""RP-L007 (weak-hash), vulnerable: fastapi request data reaches the sink through a dict."""

import hashlib

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    api_token = value
    result = hashlib.sha1(api_token.encode()).hexdigest()  # expect: RP-L007 CWE-328
    return {"ok": True}
