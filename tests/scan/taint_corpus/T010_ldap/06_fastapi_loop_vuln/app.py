"""RP-T010 (ldap), vulnerable: fastapi request data reaches the sink through a list and a loop."""

from fastapi import FastAPI
from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    values = []
    values.append(q)
    for value in values:
        result = LDAP.search("ou=groups,dc=example,dc=com", "(&(objectClass=groupOfNames)(cn=%s))" % value)  # expect: RP-T010 CWE-90
    return {"ok": True}
