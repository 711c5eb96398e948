"""RP-L005 (tls-verify), safe twin: lambda kwargs request data reaches the sink through an object's attribute."""

import json
import ssl
import urllib.request
from urllib.parse import quote


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        tls = ssl.create_default_context()  # safe: RP-L005
        result = urllib.request.urlopen("https://stock.internal/level?sku=" + quote(self.value), context=tls).read()


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
