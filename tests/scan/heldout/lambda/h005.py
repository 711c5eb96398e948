"""Webhook and integration endpoint."""

import json

import pymysql


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    conn = pymysql.connect(host="db", user="app", database="app")
    cols = ["id", "email"]
    parts = ["SELECT", ", ".join(cols), "FROM customers WHERE id =", val]
    with conn.cursor() as cur:
        cur.execute(" ".join(parts))
        out = cur.fetchone()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
