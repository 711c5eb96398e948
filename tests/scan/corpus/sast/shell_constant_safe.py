"""Constant commands: a literal at the call is low; through a name it keeps high."""

import os
import subprocess

REPORT = "df -h /tmp | tail -1"


def handler(event, context):
    subprocess.run(REPORT, shell=True, check=True)
    subprocess.run("du -sh " + "/tmp", shell=True, check=True)
    os.system(REPORT)
    subprocess.run(["/usr/bin/env"], check=True)
    return {"statusCode": 200, "body": "ok"}
