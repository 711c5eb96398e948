"""RP-T013 (xxe), safe twin: fastapi request data reaches the sink through a dict."""

from defusedxml import minidom
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    result = minidom.parseString(value)  # safe: RP-T013
    return {"ok": True}
