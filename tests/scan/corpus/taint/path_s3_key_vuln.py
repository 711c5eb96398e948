"""Vulnerable: an S3 object key (Records[*].s3.object.key) becomes a local path (RP-T005).

A key such as ``../../proc/self/environ`` escapes /tmp.
"""

import os
from urllib.parse import unquote_plus


def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        data = context.objects.get(record["s3"]["bucket"]["name"], key)
        with open(f"/tmp/{key}", "wb") as out:  # finding: RP-T005
            out.write(data)
        os.remove(os.path.join("/tmp", key))  # finding: RP-T005
