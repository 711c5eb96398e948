"""RP-L009 (cookie-flags), vulnerable: lambda kwargs request data reaches the sink through a helper in helpers.py."""

from helpers import process


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    result = process(ev["queryStringParameters"]["q"])
    return result
