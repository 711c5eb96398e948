"""RP-T001 (code), vulnerable: fastapi path request data reaches the sink through a dict."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    scope = {"__builtins__": {}}
    exec("total = " + value, scope)  # expect: RP-T001 CWE-94
    result = scope["total"]
    return {"ok": True}
