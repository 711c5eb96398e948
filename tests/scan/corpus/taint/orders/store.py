"""Data access for the orders handlers (cross-module taint: the sinks live here)."""


def find_order_unsafe(cur, order_id):
    cur.execute("SELECT * FROM orders WHERE id = '" + order_id + "'")  # finding: RP-T003
    return cur.fetchone()


def find_order(cur, order_id):
    cur.execute("SELECT * FROM orders WHERE id = ?", (order_id,))
    return cur.fetchone()
