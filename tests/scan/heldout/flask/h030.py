"""Request handler for the orders service."""

import secrets

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    resp = app.make_response({"ok": True})
    token = secrets.token_hex(20)
    resp.set_cookie("remember_token", token, max_age=30 * 86400, secure=True, httponly=True)
    return resp
