"""RP-T010 (ldap), vulnerable: lambda sqs request data reaches the sink through an object's attribute."""

import json

from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = LDAP.search("dc=example,dc=com", "(uid=" + self.value + ")", attributes=["mail"])  # expect: RP-T010 CWE-90


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    job = Job(msg["value"])
    job.run()
    return {"batchItemFailures": []}
