"""RP-T012 (xss), vulnerable: lambda evctx request data reaches the sink through str.format."""


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>" + value + "</p>"}  # expect: RP-T012 CWE-79
    return result
