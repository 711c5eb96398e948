"""Vulnerable: a header names the program subprocess runs (no shell, still RP-T002)."""

import subprocess


def handler(event, context):
    tool = event["headers"]["x-tool"]
    version = subprocess.check_output(tool)  # finding: RP-T002
    argv = [event["headers"]["x-runner"], "--version"]
    subprocess.run(argv, check=True)  # finding: RP-T002
    subprocess.run(["sh", "-c", "echo " + tool], check=True)  # finding: RP-T002
    return {"statusCode": 200, "body": version.decode()}
