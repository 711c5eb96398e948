"""Endpoint of the notifications service."""

import json
import sqlite3


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    conn = sqlite3.connect("/tmp/app.db")
    query = f"SELECT id, name FROM users WHERE name = '{val}'"
    out = conn.execute(query).fetchall()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
