"""Safe twin of os_system_path_vuln: the parameter is checked against an allowlist first."""

import os

FORMATS = {"png", "jpeg", "webp"}


def handler(event, context):
    fmt = event["pathParameters"]["format"]
    if fmt not in FORMATS:
        return {"statusCode": 400, "body": "unsupported format"}
    os.system("convert /tmp/in.bin /tmp/out." + fmt)
    size = event["pathParameters"]["size"]
    if size.isdigit():
        listing = os.popen("ls -l /tmp/thumb-%s.png" % size).read()
        return {"statusCode": 200, "body": listing}
    return {"statusCode": 400, "body": "bad size"}
