"""View used by the admin back office."""

import json

import psycopg2


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    conn = psycopg2.connect(host="db.internal", dbname="app", user="app", password="Pr0d-Passw0rd!")
    out = conn.server_version
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
