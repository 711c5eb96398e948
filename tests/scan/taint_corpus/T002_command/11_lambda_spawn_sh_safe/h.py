"""RP-T002 (command), safe twin: a fixed program gets the caller's text as one argument."""

import os


def handler(event, context):
    host = event["host"]
    os.posix_spawn("/bin/ping", ["ping", "-c1", "--", host], {})  # safe: RP-T002
    return {"statusCode": 202}
