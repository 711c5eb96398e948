"""RP-L009 (cookie-flags), vulnerable: lambda evctx request data reaches the sink through str.format."""


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Set-Cookie": f"session={value}; Path=/"}, "body": "{}"}  # expect: RP-L009 CWE-614
    return result
