"""RP-T009 (xpath), safe twin: lambda kwargs request data reaches the sink through an object's attribute."""

import json

from lxml import etree

CATALOG = etree.parse("/srv/data/catalog.xml")


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = CATALOG.xpath("//book[@id=$bid]/title/text()", bid=self.value)  # safe: RP-T009


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
