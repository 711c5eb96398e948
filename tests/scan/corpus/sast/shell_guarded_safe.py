"""Shell commands bandit flags by shape (B602/B605) that nobody outside can steer."""

import os
import re
import shlex
import subprocess

TMP = "/tmp/work"
BIN = "/opt/bin/tool"


def handler(event, context):
    host = event["host"]
    if not re.fullmatch(r"[a-z0-9.-]{1,253}", host):
        return {"statusCode": 400}
    os.system("dig +short " + host)  # high: guards not followed
    subprocess.run(shlex.join(["wc", "-l", host]), shell=True)  # medium: shlex.join, in place
    os.system(f"rm -rf {TMP}/*")  # high: names not followed
    subprocess.run(" ".join([BIN, "--refresh"]), shell=True)  # high: names not followed
    return {"statusCode": 200}
