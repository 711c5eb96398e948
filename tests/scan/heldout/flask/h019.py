"""Handler of the catalogue service."""

import hashlib

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    class PasswordStore:
        def hash(self, password: str) -> str:
            return hashlib.md5(("static-salt" + password).encode()).hexdigest()
    out = PasswordStore().hash(data["password"])
    return {"result": str(out)}, 201
