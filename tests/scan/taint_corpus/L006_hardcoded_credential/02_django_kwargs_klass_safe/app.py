"""RP-L006 (hardcoded-credential), safe twin: django kwargs request data reaches the sink through an object's attribute."""

import os

import psycopg2
from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        conn = psycopg2.connect(host="db.internal", dbname="shop", user="shop_app", password=os.environ["DB_PASSWORD"])  # safe: RP-L006
        result = conn.cursor().execute("SELECT 1 FROM items WHERE sku = %s", (self.value,))


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
