"""Function behind the public API gateway."""

import urllib.request
from urllib.parse import urlparse

from flask import Flask, request
from shared import words

app = Flask(__name__)


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    base = "http://" + val
    path = "/".join([base, "api", "export"])
    if urlparse(path).hostname not in ALLOWED_HOSTS:
        return {"error": "host not allowed"}, 400
    req = urllib.request.Request(path, headers={"Accept": words("application/json")})
    out = urllib.request.urlopen(req).status
    return {"result": str(out)}
