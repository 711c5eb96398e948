"""RP-L001 (jwt), safe twin: flask route request data reaches the sink through a dict."""

import os

import jwt
from flask import Flask, jsonify

SECRET_KEY = os.environ["JWT_SECRET"]
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"], options={"verify_aud": False})  # safe: RP-L001
    return jsonify({"ok": True})
