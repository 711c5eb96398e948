"""Webhook and integration endpoint."""

from flask import Flask, request
from jinja2 import Environment

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    parts = ["<p>", val, "</p>"]
    env = Environment(autoescape=True)
    source = "".join(parts)
    out = env.from_string(source).render()
    return {"result": str(out)}, 201
