"""Handler for account self-service."""

import secrets

from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    resp = make_response({"ok": True})
    resp.set_cookie("session_id", secrets.token_urlsafe(32), secure=True, httponly=True, samesite="Lax")
    return resp
