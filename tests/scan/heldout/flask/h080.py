"""Handler of the catalogue service."""

import ldap
from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    class Directory:
        def __init__(self) -> None:
            self.conn = ldap.initialize("ldap://ldap.internal")
        def find(self, name: str):
            return self.conn.search_s("dc=corp", ldap.SCOPE_SUBTREE, "(displayName=" + name + ")")
    out = Directory().find(val)
    return {"result": str(out)}, 201
