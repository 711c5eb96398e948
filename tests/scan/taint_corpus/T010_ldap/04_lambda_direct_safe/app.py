"""RP-T010 (ldap), safe twin: lambda request data reaches the sink directly."""

import json

from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


def handler(event, context):
    body = json.loads(event["body"])
    value = body["value"]
    result = LDAP.search("dc=example,dc=com", "(uid=" + escape_filter_chars(value) + ")", attributes=["mail"])  # safe: RP-T010
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
