"""Request handler for the orders service."""

import secrets
import uuid

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    csrf_token = secrets.token_hex(16)
    out = csrf_token
    return {"result": str(out)}, 201
