"""Helpers shared by the app's views and handlers."""

import psycopg2


def process(value):
    """Does the work for the view; the caller passes request data."""
    conn = psycopg2.connect(host="db.internal", dbname="shop", user="shop_app", password="Tr0ub4dor&3-prod")  # expect: RP-L006 CWE-798
    result = conn.cursor().execute("SELECT 1 FROM items WHERE sku = %s", (value,))
