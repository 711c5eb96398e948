"""Endpoint of the billing service."""

import logging
import traceback

from flask import Flask, request

app = Flask(__name__)


PRICES = {"mug": 9}


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    try:
        out = int(data["qty"]) * PRICES[val]
    except Exception:
        logging.getLogger(__name__).error(traceback.format_exc())
        return {"error": "internal error"}, 500
    return {"result": str(out)}, 201
