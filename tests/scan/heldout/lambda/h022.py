"""Handler for account self-service."""

import json

from jinja2 import Environment


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    env = Environment()
    tpl = env.from_string(f"Dear {val}, your order shipped.")
    out = tpl.render()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
