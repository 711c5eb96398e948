"""Vulnerable: a path parameter reaches SQL concatenation in another module of the app.

The finding is in orders/store.py, where the query is built and executed.
"""

import sqlite3

from orders.store import find_order_unsafe


def handler(event, context):
    order_id = event["pathParameters"]["id"]
    cur = sqlite3.connect("/tmp/app.db").cursor()
    return {"statusCode": 200, "body": str(find_order_unsafe(cur, order_id))}
