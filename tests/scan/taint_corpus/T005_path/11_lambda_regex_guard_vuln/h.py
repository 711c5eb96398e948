"""RP-T005 (path), vulnerable: a fullmatch whose pattern admits "/" and ".." is no guard."""

import re

NAME = re.compile(r"[\w./-]+")


def handler(event, context):
    name = event["name"]
    if not NAME.fullmatch(name):
        return {"statusCode": 400}
    return {"statusCode": 200, "body": open("/var/task/files/" + name).read()}  # expect: RP-T005 CWE-22
