"""RP-T002 (command), vulnerable: fastapi request data reaches the sink through a dict."""

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    result = os.system("convert " + value + " /tmp/thumb.png")  # expect: RP-T002 CWE-78
    return {"ok": True}
