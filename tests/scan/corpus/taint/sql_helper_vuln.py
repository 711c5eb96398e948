"""Vulnerable: the body crosses into a helper that builds SQL with .format (inter-procedural).

The finding is reported where the query is executed, inside the helper; a
second helper returns the built query and the handler executes it.
"""

import json
import sqlite3


def find_user(cur, name):
    query = "SELECT * FROM users WHERE name = '{}'".format(name)
    cur.execute(query)  # finding: RP-T003
    return cur.fetchall()


def build_delete(user_id):
    return "DELETE FROM users WHERE id = " + user_id


def handler(event, context):
    body = json.loads(event["body"])
    cur = sqlite3.connect("/tmp/app.db").cursor()
    rows = find_user(cur, body["name"])
    cur.execute(build_delete(body["id"]))  # finding: RP-T003
    return {"statusCode": 200, "body": json.dumps(rows)}
