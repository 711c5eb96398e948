"""Safe twin of shell_query_vuln: an argument list without a shell, or a quoted value."""

import shlex
import subprocess


def handler(event, context):
    host = event["queryStringParameters"]["host"]
    out = subprocess.run(["ping", "-c", "1", host], capture_output=True, check=False)
    quoted = subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, capture_output=True)
    return {"statusCode": 200, "body": out.stdout.decode() + quoted.stdout.decode()}
