"""Safe twin of sql_helper_vuln: the helpers bind parameters, or get an int."""

import json
import sqlite3


def find_user(cur, name):
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
    return cur.fetchall()


def build_delete(user_id):
    return "DELETE FROM users WHERE id = %d" % user_id


def handler(event, context):
    body = json.loads(event["body"])
    cur = sqlite3.connect("/tmp/app.db").cursor()
    rows = find_user(cur, body["name"])
    cur.execute(build_delete(int(body["id"])))
    return {"statusCode": 200, "body": json.dumps(rows)}
