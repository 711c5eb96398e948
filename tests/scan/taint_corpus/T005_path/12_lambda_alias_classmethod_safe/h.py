"""RP-T005 (path), safe twin: only the final component of the name is used."""

import os


class Storage:
    root = "/var/task/docs/"

    @classmethod
    def read(cls, name):
        with open(cls.root + os.path.basename(name)) as f:  # safe: RP-T005
            return f.read()


def _impl(event, context):
    return {"statusCode": 200, "body": Storage.read(event["name"])}


handler = _impl
