"""Function behind the public API gateway."""

import json

from jinja2 import Environment, select_autoescape


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    env = Environment(autoescape=select_autoescape())
    tpl = env.from_string("Dear {{ name }}, your order shipped.")
    out = tpl.render(name=val)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
