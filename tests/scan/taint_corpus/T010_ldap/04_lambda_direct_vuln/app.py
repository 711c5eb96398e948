"""RP-T010 (ldap), vulnerable: lambda request data reaches the sink directly."""

import json

from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


def handler(event, context):
    body = json.loads(event["body"])
    value = body["value"]
    result = LDAP.search("dc=example,dc=com", "(uid=" + value + ")", attributes=["mail"])  # expect: RP-T010 CWE-90
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
