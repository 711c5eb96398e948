"""Webhook and integration endpoint."""

import ldap
from flask import Flask, request
from ldap.filter import escape_filter_chars

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    conn = ldap.initialize("ldap://ldap.internal")
    flt = "(uid=%s)" % escape_filter_chars(val)
    out = conn.search_s("ou=people,dc=corp,dc=example", ldap.SCOPE_SUBTREE, flt)
    return {"result": str(out)}
