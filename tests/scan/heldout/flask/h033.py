"""Endpoint of the billing service."""

from urllib.parse import urlparse

import requests
from flask import Flask, request

app = Flask(__name__)


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    hook = data.get("webhook", val)
    if urlparse(hook).hostname not in ALLOWED_HOSTS:
        return {"error": "webhook host not allowed"}, 400
    out = requests.post(hook, json={"event": "ping"}, timeout=5).status_code
    return {"result": str(out)}, 201
