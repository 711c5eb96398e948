"""RP-L002 (error-disclosure), vulnerable: fastapi request data reaches the sink through a dict."""

import json

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = JSONResponse({"total": total}, status_code=200)
    except Exception as exc:
        result = JSONResponse({"error": str(exc)}, status_code=500)  # expect: RP-L002 CWE-209
    return result
