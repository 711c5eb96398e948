"""Endpoint of the customer portal."""

from fastapi import FastAPI
from ldap3 import Connection, Server, SUBTREE
from ldap3.utils.conv import escape_filter_chars

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    parts = ["(|", "(cn=*{}*)".format(escape_filter_chars(val)), "(sn=*{}*)".format(escape_filter_chars(val)), ")"]
    conn.search("ou=people,dc=corp", "".join(parts), search_scope=SUBTREE)
    out = len(conn.entries)
    return {"result": str(out)}
