"""RP-T010 (ldap), safe twin: fastapi request data reaches the sink through a list and a loop."""

import re

from fastapi import FastAPI
from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    values = []
    values.append(q)
    for value in values:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", value):
            raise ValueError("bad group")
        result = LDAP.search("ou=groups,dc=example,dc=com", "(&(objectClass=groupOfNames)(cn=%s))" % value)  # safe: RP-T010
    return {"ok": True}
