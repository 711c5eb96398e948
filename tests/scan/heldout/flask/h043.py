"""View used by the admin back office."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    prefs = {"currency": val}
    session["currency"] = prefs["currency"]
    out = prefs
    return {"result": str(out)}, 201
