"""Endpoint of the notifications service."""

import json

from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    val = escape_filter_chars(val)
    conn.search("dc=corp,dc=example", f"(&(objectClass=person)(mail={val}))")
    out = [str(e) for e in conn.entries]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
