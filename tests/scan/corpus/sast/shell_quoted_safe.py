"""Shell commands whose every run-time part is shell-quoted (or a number): not injectable."""

import os
import shlex
import subprocess
from shlex import quote


def handler(event, context):
    name = event["name"]
    subprocess.run(f"grep -c {shlex.quote(name)} /srv/index.txt", shell=True, check=True)
    os.system("touch /tmp/" + quote(name))
    subprocess.run("head -n %d /srv/log" % int(event["lines"]), shell=True, check=True)
    subprocess.run(f"grep -c {name} /srv/index.txt", shell=True, check=True)
    return {"statusCode": 200, "body": "ok"}
