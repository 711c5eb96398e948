"""Function behind the public API gateway."""

import ldap
from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    conn = ldap.initialize("ldap://ldap.internal")
    flt = "(uid=%s)" % val
    out = conn.search_s("ou=people,dc=corp,dc=example", ldap.SCOPE_SUBTREE, flt)
    return {"result": str(out)}
