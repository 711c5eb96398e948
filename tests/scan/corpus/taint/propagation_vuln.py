"""Vulnerable: taint survives join, list/dict building, loops, augmented assignment, walrus.

A handler whose first parameter is not called ``event`` is still a handler
when its second one is the context.
"""

import os
import subprocess


def handler(evt, context):
    params = evt.get("queryStringParameters") or {}
    words = ["echo"]
    for value in params.values():
        words.append(value)
    os.system(" ".join(words))  # finding: RP-T002
    options = {"dir": params.get("dir", "/tmp")}
    cmd = "ls "
    cmd += options["dir"]
    os.popen(cmd)  # finding: RP-T002
    if (archive := params.get("archive")) is not None:
        subprocess.call("tar xf {}".format(archive), shell=True)  # finding: RP-T002
    return {"statusCode": 204}
