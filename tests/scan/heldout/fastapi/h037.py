"""Endpoint of the billing service."""

from fastapi import FastAPI
from ldap3 import Connection, Server, SUBTREE

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    parts = ["(|", "(cn=*{}*)".format(val), "(sn=*{}*)".format(val), ")"]
    conn.search("ou=people,dc=corp", "".join(parts), search_scope=SUBTREE)
    out = len(conn.entries)
    return {"result": str(out)}
