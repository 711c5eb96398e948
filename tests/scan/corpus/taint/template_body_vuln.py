"""Vulnerable: the request body is compiled as a Jinja2 template (RP-T007, SSTI)."""

import jinja2

ENV = jinja2.Environment(autoescape=True)


def handler(event, context):
    greeting = event["body"]
    page = jinja2.Template(greeting).render()  # finding: RP-T007
    card = ENV.from_string("<p>" + greeting + "</p>").render()  # finding: RP-T007
    return {"statusCode": 200, "body": page + card}
