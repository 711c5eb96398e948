"""RP-T013 (xxe), vulnerable: fastapi request data reaches the sink through a dict."""

from xml.dom import minidom

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    result = minidom.parseString(value)  # expect: RP-T013 CWE-611
    return {"ok": True}
