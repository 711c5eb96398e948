"""Endpoint of the notifications service."""

import jwt
from flask import Flask, request

app = Flask(__name__)


PUBLIC_KEY = open("/etc/keys/jwt.pub").read()


@app.route("/hook", methods=["POST"])
def hook():
    val = request.headers.get("X-Target", "")
    token = request.headers.get("Authorization", "").split(" ")[-1]
    claims = jwt.decode(token, PUBLIC_KEY)
    out = claims.get("scope")
    return {"result": str(out)}
