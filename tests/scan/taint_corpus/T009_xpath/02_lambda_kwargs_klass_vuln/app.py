"""RP-T009 (xpath), vulnerable: lambda kwargs request data reaches the sink through an object's attribute."""

import json

from lxml import etree

CATALOG = etree.parse("/srv/data/catalog.xml")


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = CATALOG.xpath(f"//book[@id='{self.value}']/title/text()")  # expect: RP-T009 CWE-643


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
