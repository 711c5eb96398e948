"""Endpoint of the billing service."""

import json

from ldap3 import Connection, Server


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    conn.search("dc=corp,dc=example", f"(&(objectClass=person)(mail={val}))")
    out = [str(e) for e in conn.entries]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
