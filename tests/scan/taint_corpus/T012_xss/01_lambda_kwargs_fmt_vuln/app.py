"""RP-T012 (xss), vulnerable: lambda kwargs request data reaches the sink through str.format."""


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>" + value + "</p>"}  # expect: RP-T012 CWE-79
    return result
