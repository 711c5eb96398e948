"""Safe twin of sql_cookie_vuln: the cookie is a bound parameter of the query."""

import sqlite3


def handler(event, context):
    cookies = dict(c.split("=", 1) for c in event.get("cookies", []))
    session = cookies["session"]
    conn = sqlite3.connect("/tmp/app.db")
    cur = conn.cursor()
    cur.execute("SELECT user FROM sessions WHERE id = ?", (session,))
    table = "sessions"
    cur.execute(f"SELECT count(*) FROM {table}")  # formatting, but of a constant
    row = cur.fetchone()
    return {"statusCode": 200, "body": str(row)}
