"""Handler of the reporting API."""

import json
import sqlite3


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    conn = sqlite3.connect("/tmp/app.db")
    query = "SELECT id, name FROM users WHERE name = ?"
    out = conn.execute(query, (val,)).fetchall()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
