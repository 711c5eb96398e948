"""RP-T001 (code), safe twin: fastapi path request data reaches the sink through a dict."""

from fastapi import FastAPI

ALLOWED_FORMULAS = {"1 + 1", "price * qty", "qty * 2"}
app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    scope = {"__builtins__": {}}
    if value not in ALLOWED_FORMULAS:
        raise ValueError("unknown formula")
    exec("total = " + value, scope)  # safe: RP-T001
    result = scope["total"]
    return {"ok": True}
