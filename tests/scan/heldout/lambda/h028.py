"""Webhook and integration endpoint."""

import json
import os

import psycopg2


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    conn = psycopg2.connect(host="db.internal", dbname="app", user="app", password=os.environ["DB_PASSWORD"])
    out = conn.server_version
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
