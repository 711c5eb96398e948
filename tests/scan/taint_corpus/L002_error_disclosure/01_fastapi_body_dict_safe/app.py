"""RP-L002 (error-disclosure), safe twin: fastapi body request data reaches the sink through a dict."""

import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

LOG = logging.getLogger(__name__)
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
    except Exception:
        LOG.exception("order total failed")
        result = JSONResponse({"error": "internal error"}, status_code=500)  # safe: RP-L002
    return result
