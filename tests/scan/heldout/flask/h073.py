"""View used by the admin back office."""

import hashlib

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    class PasswordStore:
        def hash(self, password: str) -> str:
            return hashlib.pbkdf2_hmac("sha256", password.encode(), b"per-user-salt", 600_000).hex()
    out = PasswordStore().hash(data["password"])
    return {"result": str(out)}, 201
