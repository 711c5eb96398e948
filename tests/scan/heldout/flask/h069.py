"""Function behind the public API gateway."""

import requests
from flask import Flask, request

app = Flask(__name__)


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    hook = data.get("webhook", val)
    out = requests.post(hook, json={"event": "ping"}, timeout=5).status_code
    return {"result": str(out)}, 201
