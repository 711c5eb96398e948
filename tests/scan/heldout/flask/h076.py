"""Function behind the public API gateway."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    prefs = {"currency": val}
    if prefs["currency"] not in {"EUR", "USD"}:
        prefs["currency"] = "EUR"
    session["currency"] = prefs["currency"]
    out = prefs
    return {"result": str(out)}, 201
