"""Shell commands the taint rules do not flag but nothing shows safe: bandit's high stays."""

import os
import re
import shlex
import subprocess

from helpers import lookup

TOOL = os.environ["TOOL"]


def run(cmd):
    subprocess.run(cmd, shell=True)  # high: a parameter, whoever calls it


def handler(event, context):
    name = event["name"]
    os.system("ls " + lookup(name))  # high: the app's helper is not followed here
    os.system(TOOL + " --scan")  # high: a global the operator (or anyone) sets
    os.system("echo " + os.getenv("GREETING", ""))  # high: not a constant
    quoted = shlex.quote(name)
    os.system(f"grep {quoted} {name}")  # high: one part quoted, the other raw
    if re.fullmatch(r"[a-z]+", name):
        pass
    os.system("touch /tmp/" + name)  # high: the guard does not stop the bad case
    if name.isdigit():
        quoted = event["raw"]
    subprocess.run("head -n " + quoted, shell=True)  # high: reassigned in a branch

    def inner():
        os.system("wc -l " + quoted)  # high: a closure's value is not followed

    inner()
    return {"statusCode": 200}
