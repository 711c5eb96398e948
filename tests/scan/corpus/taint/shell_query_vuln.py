"""Vulnerable: a query-string parameter is put into a shell command (RP-T002)."""

import subprocess


def handler(event, context):
    host = event["queryStringParameters"]["host"]
    out = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True)  # finding: RP-T002
    return {"statusCode": 200, "body": out.stdout.decode()}
