"""Endpoint of the customer portal."""

import random
import uuid

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    csrf_token = uuid.UUID(int=random.getrandbits(128)).hex
    out = csrf_token
    return {"result": str(out)}, 201
