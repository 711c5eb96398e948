"""Endpoint of the billing service."""

import ast

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
        results.append(ast.literal_eval(rule))
    out = results
    return {"result": str(out)}, 201
