"""RP-T012 (xss), safe twin: lambda kwargs request data reaches the sink through str.format."""

import html


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>" + html.escape(value) + "</p>"}  # safe: RP-T012
    return result
