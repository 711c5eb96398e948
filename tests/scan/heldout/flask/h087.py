"""Webhook and integration endpoint."""

from flask import Flask, request
from jose import jwt

app = Flask(__name__)


SECRET = open("/run/secrets/session").read()


@app.route("/prefs")
def prefs():
    val = request.cookies.get("pref", "")
    claims = jwt.decode(val, SECRET, options={"verify_signature": False})
    out = claims["role"]
    return {"result": str(out)}
