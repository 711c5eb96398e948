"""RP-T013 (xxe), vulnerable: lambda evctx request data reaches the sink through an object's attribute."""

import json

from lxml import etree


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        parser = etree.XMLParser(resolve_entities=True)
        result = etree.fromstring(self.value.encode(), parser)  # expect: RP-T013 CWE-611


def main(ev, ctx):
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
