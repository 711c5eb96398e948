"""Handler of the reporting API."""

from flask import Flask, request
from jose import jwt

app = Flask(__name__)


SECRET = open("/run/secrets/session").read()


@app.route("/prefs")
def prefs():
    val = request.cookies.get("pref", "")
    claims = jwt.decode(val, SECRET, algorithms=["HS256"])
    out = claims["role"]
    return {"result": str(out)}
