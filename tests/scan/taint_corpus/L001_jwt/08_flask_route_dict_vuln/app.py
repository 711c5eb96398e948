"""RP-L001 (jwt), vulnerable: flask route request data reaches the sink through a dict."""

import os

import jwt
from flask import Flask, jsonify

SECRET_KEY = os.environ["JWT_SECRET"]
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"], options={"verify_signature": False})  # expect: RP-L001 CWE-347
    return jsonify({"ok": True})
