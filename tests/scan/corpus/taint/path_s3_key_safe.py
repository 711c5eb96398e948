"""Safe twin of path_s3_key_vuln: only the key's file name is used under /tmp."""

import os
from pathlib import Path
from urllib.parse import unquote_plus


def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        data = context.objects.get(record["s3"]["bucket"]["name"], key)
        name = os.path.basename(key)
        with open(f"/tmp/{name}", "wb") as out:
            out.write(data)
        os.remove(os.path.join("/tmp", Path(key).name))
