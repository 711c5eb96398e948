"""Handler of the catalogue service."""

from flask import Flask, request
from shared import field

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    rules = [field(data, "rule"), val]
    results = []
    for rule in rules:
        results.append(eval(rule, {"__builtins__": {}}))
    out = results
    return {"result": str(out)}, 201
