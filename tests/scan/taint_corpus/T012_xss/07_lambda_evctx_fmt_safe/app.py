"""RP-T012 (xss), safe twin: lambda evctx request data reaches the sink through str.format."""

import html


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>" + html.escape(value) + "</p>"}  # safe: RP-T012
    return result
