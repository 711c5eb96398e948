"""Safe commands built through names, helpers and guards: not lowered, they keep high."""

import os
import re
import shlex
import subprocess
import uuid

FORMATS = {"png", "jpeg", "webp"}
SIZE = re.compile(r"[0-9]{1,4}x[0-9]{1,4}")


def handler(event, context):
    name = shlex.quote(event["name"])
    target = name + ".tgz"
    subprocess.run(f"tar czf /tmp/{target} /srv/data", shell=True)  # high (safe): via a local
    job = str(uuid.UUID(event["job"]))
    os.system("rm -rf /tmp/jobs/" + job)  # high (safe): a UUID has no shell syntax
    fmt = event["format"]
    if fmt not in FORMATS:
        return {"statusCode": 400}
    os.system(f"convert /tmp/in -format {fmt} /tmp/out")  # high (safe): an allowlist
    size = event["size"]
    if not SIZE.fullmatch(size):
        raise ValueError("bad size")
    subprocess.call("convert /tmp/in -resize %s /tmp/out" % size, shell=True)  # high (safe):
    count = event["count"]
    if count.isdigit():
        os.popen("head -n " + count + " /srv/log")  # high (safe): digits only
    return {"statusCode": 200}


def _archive_name(value):
    return shlex.quote(value) + ".tgz"


def _checked_size(value):
    if not SIZE.fullmatch(value):
        raise ValueError("bad size")
    return value


def archive(event, context):
    subprocess.run("tar czf /tmp/" + _archive_name(event["name"]), shell=True)  # high (safe):
    os.system("convert -resize " + _checked_size(event["size"]))  # high (safe): the helper's guard
    return {"statusCode": 200}


FROZEN_FORMATS = frozenset({"png", "jpeg", "webp"})


def convert(event, context):
    fmt = event["format"]
    if fmt not in FROZEN_FORMATS:
        return {"statusCode": 400}
    os.system(f"convert /tmp/in -format {fmt} /tmp/out")  # high (safe): a frozen allowlist
    return {"statusCode": 200}
