"""Endpoint of the notifications service."""

from flask import Flask, request
from jinja2 import Environment

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    env = Environment(autoescape=True)
    out = env.from_string("<p>{{ bio }}</p>").render(bio=val)
    return out
