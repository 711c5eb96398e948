"""Safe: a handler using /tmp, its private scratch space in the sandbox (bandit B108 is off)."""

import json
import tempfile
from pathlib import Path

CACHE = Path("/tmp/cache")


def handler(event, context):
    CACHE.mkdir(exist_ok=True)
    with open("/tmp/last-event.json", "w") as f:
        json.dump({"id": context.aws_request_id}, f)
    fd, name = tempfile.mkstemp(dir="/tmp", suffix=".bin")
    with open(fd, "wb") as out:
        out.write(b"scratch")
    return {"statusCode": 200, "body": name}
