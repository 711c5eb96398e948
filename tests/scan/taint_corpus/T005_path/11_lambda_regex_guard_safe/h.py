"""RP-T005 (path), safe twin: the pattern admits no separator and no "..": a real guard."""

import re

NAME = re.compile(r"[\w-]{1,64}\.txt")


def handler(event, context):
    name = event["name"]
    if not NAME.fullmatch(name):
        return {"statusCode": 400}
    return {"statusCode": 200, "body": open("/var/task/files/" + name).read()}  # safe: RP-T005
