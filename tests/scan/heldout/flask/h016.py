"""Function behind the public API gateway."""

import urllib.request

from flask import Flask, request
from shared import words

app = Flask(__name__)


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    base = "http://" + val
    path = "/".join([base, "api", "export"])
    req = urllib.request.Request(path, headers={"Accept": words("application/json")})
    out = urllib.request.urlopen(req).status
    return {"result": str(out)}
