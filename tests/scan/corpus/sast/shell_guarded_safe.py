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
    os.system("dig +short " + host)  # medium: the taint proof sees the guard
    subprocess.run(shlex.join(["wc", "-l", host]), shell=True)  # low: shlex.join quotes
    os.system(f"rm -rf {TMP}/*")  # low: an f-string of constants
    subprocess.run(" ".join([BIN, "--refresh"]), shell=True)  # low: a join of constants
    return {"statusCode": 200}
