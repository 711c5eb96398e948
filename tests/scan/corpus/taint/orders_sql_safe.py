"""Safe twin of orders_sql_vuln: the other module's parameterised query is used."""

import sqlite3

from orders import store


def handler(event, context):
    order_id = event["pathParameters"]["id"]
    cur = sqlite3.connect("/tmp/app.db").cursor()
    return {"statusCode": 200, "body": str(store.find_order(cur, order_id))}
