"""RP-L002 (error-disclosure), vulnerable: fastapi body request data reaches the sink through a dict."""

import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    params = {"value": data["value"], "page": 1}
    value = params["value"]
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = JSONResponse({"total": total}, status_code=200)
    except Exception as exc:
        result = JSONResponse({"error": str(exc)}, status_code=500)  # expect: RP-L002 CWE-209
    return result
