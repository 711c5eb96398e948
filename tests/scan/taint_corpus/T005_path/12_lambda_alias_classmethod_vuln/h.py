"""RP-T005 (path), vulnerable: an aliased handler calls a classmethod on its class."""


class Storage:
    root = "/var/task/docs/"

    @classmethod
    def read(cls, name):
        with open(cls.root + name) as f:  # expect: RP-T005 CWE-22
            return f.read()


def _impl(event, context):
    return {"statusCode": 200, "body": Storage.read(event["name"])}


handler = _impl
