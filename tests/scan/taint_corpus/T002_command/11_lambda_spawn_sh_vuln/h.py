"""RP-T002 (command), vulnerable: os.posix_spawn runs "sh -c" with the caller's text."""

import os


def handler(event, context):
    host = event["host"]
    os.posix_spawn("/bin/sh", ["sh", "-c", "ping -c1 " + host], {})  # expect: RP-T002 CWE-78
    return {"statusCode": 202}
