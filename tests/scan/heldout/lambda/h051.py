"""Handler for account self-service."""

import json

from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    groups = {"group": val}
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    flt = "(memberOf=cn=%s,ou=groups,dc=corp)" % escape_filter_chars(groups["group"])
    out = conn.search("dc=corp", flt)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
