"""RP-T011 (redirect), safe twin: lambda kwargs request data reaches the sink through str.format."""

from urllib.parse import urlparse

ALLOWED_HOSTS = {"shop.example.com", "accounts.example.com"}


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("redirect target not allowed")
    result = {"statusCode": 302, "headers": {"Location": value}, "body": ""}  # safe: RP-T011
    return result
