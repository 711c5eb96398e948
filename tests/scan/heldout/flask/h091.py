"""Handler of the reporting API."""

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
        return {"error": traceback.format_exc()}, 500
    return {"result": str(out)}, 201
