"""Order queries."""

import sqlite3

SORTABLE = {"created_at", "total", "customer"}


class OrderRepo:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)

    def search(self, status, sort):
        sql = "SELECT id, total FROM orders WHERE status = ? ORDER BY " + sort
        return self.conn.execute(sql, (status,)).fetchall()  # expect: RP-T003 CWE-89
