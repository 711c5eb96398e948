"""Handler of the reporting API."""

import yaml
from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    doc = data["config"] if "config" in data else val
    out = yaml.safe_load(doc)
    return {"result": str(out)}, 201
