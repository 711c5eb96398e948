"""Endpoint of the notifications service."""

import base64
import pickle

from flask import Flask, request
from shared import clean

app = Flask(__name__)


@app.route("/prefs")
def prefs():
    val = request.cookies.get("pref", "")
    cart = base64.urlsafe_b64decode(clean(val))
    out = pickle.loads(cart)
    return {"result": str(out)}
