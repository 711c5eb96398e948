"""RP-T002 (command), safe twin: fastapi request data reaches the sink through a dict."""

import os
import shlex

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    result = os.system("convert " + shlex.quote(value) + " /tmp/thumb.png")  # safe: RP-T002
    return {"ok": True}
