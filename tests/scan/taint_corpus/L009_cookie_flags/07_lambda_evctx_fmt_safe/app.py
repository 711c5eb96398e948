"""RP-L009 (cookie-flags), safe twin: lambda evctx request data reaches the sink through str.format."""


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = {"statusCode": 200, "headers": {"Set-Cookie": f"session={value}; Path=/; Secure; HttpOnly; SameSite=Lax"}, "body": "{}"}  # safe: RP-L009
    return result
