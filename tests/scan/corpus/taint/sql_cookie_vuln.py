"""Vulnerable: an HTTP API v2 cookie is formatted into SQL run by cursor.execute (RP-T003)."""

import sqlite3


def handler(event, context):
    cookies = dict(c.split("=", 1) for c in event.get("cookies", []))
    session = cookies["session"]
    conn = sqlite3.connect("/tmp/app.db")
    cur = conn.cursor()
    cur.execute(f"SELECT user FROM sessions WHERE id = '{session}'")  # finding: RP-T003
    row = cur.fetchone()
    return {"statusCode": 200, "body": str(row)}
