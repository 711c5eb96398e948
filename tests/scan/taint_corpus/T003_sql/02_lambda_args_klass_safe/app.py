"""RP-T003 (sql), safe twin: lambda args request data reaches the sink through an object's attribute."""

import json
import sqlite3


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        conn = sqlite3.connect("/tmp/app.db")
        result = conn.execute(f"DELETE FROM orders WHERE id = {int(self.value)}")  # safe: RP-T003
        conn.commit()


def handler(*args):
    ev, _ctx = args
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
