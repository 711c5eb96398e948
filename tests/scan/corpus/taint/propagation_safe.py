"""Safe twin of propagation_vuln: the same shapes built only from constants and ints."""

import os
import subprocess


def handler(evt, context):
    params = evt.get("queryStringParameters") or {}
    words = ["echo"]
    for value in ("a", "b"):
        words.append(value)
    os.system(" ".join(words))
    count = int(params.get("count", "1"))
    cmd = "ls "
    cmd += "-l " * count
    os.popen(cmd)
    if (archive := params.get("archive")) is not None:
        subprocess.call(["tar", "xf", "/tmp/upload.tar", "--", archive])
    return {"statusCode": 204}
