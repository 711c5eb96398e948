"""Hello handler for the Ramparts benchmark (bench/run.py)."""

VARIANT = 0  # bench/run.py rewrites this in a temp copy to mint new versions (cold starts)


def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hello"}
