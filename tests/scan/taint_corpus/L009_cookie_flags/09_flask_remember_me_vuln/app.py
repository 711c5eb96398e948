"""RP-L009: a Flask login sets a long-lived remember-me cookie."""

import secrets

from flask import Flask, jsonify, request

app = Flask(__name__)
TOKENS = {}


@app.post("/login")
def login():
    user = request.form["username"]
    token = secrets.token_urlsafe(32)
    TOKENS[token] = user
    resp = jsonify({"user": user})
    resp.set_cookie("remember_token", token, max_age=30 * 24 * 3600, httponly=True)  # expect: RP-L009 CWE-614
    return resp
