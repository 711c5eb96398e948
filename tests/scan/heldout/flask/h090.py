"""Handler of the catalogue service."""

import base64
import json

from flask import Flask, request
from shared import clean

app = Flask(__name__)


@app.route("/prefs")
def prefs():
    val = request.cookies.get("pref", "")
    cart = base64.urlsafe_b64decode(clean(val))
    out = json.loads(cart)
    return {"result": str(out)}
