"""Vulnerable: a path parameter reaches os.system and os.popen by concatenation and %."""

import os


def handler(event, context):
    name = event["pathParameters"]["name"]
    os.system("convert " + name + " /tmp/out.png")  # finding: RP-T002
    listing = os.popen("ls -l /tmp/%s" % name).read()  # finding: RP-T002
    return {"statusCode": 200, "body": listing}
