"""RP-T008 (nosql), vulnerable: flask route request data reaches the sink through a list and a loop."""

import json

from flask import Flask, jsonify
from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        query = json.loads(value)
        result = list(DB.items.find(query))  # expect: RP-T008 CWE-943
    return jsonify({"ok": True})
