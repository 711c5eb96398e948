"""Helpers shared by the app's views and handlers."""

import os

import psycopg2


def process(value):
    """Does the work for the view; the caller passes request data."""
    conn = psycopg2.connect(host="db.internal", dbname="shop", user="shop_app", password=os.environ["DB_PASSWORD"])  # safe: RP-L006
    result = conn.cursor().execute("SELECT 1 FROM items WHERE sku = %s", (value,))
