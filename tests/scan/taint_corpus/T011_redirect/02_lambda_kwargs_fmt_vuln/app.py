"""RP-T011 (redirect), vulnerable: lambda kwargs request data reaches the sink through str.format."""


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 302, "headers": {"Location": value}, "body": ""}  # expect: RP-T011 CWE-601
    return result
