"""RP-L002 (error-disclosure), safe twin: fastapi request data reaches the sink through a dict."""

import json
import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

LOG = logging.getLogger(__name__)
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = JSONResponse({"total": total}, status_code=200)
    except Exception:
        LOG.exception("order total failed")
        result = JSONResponse({"error": "internal error"}, status_code=500)  # safe: RP-L002
    return result
