"""Safe twin of template_body_vuln: fixed templates; the body is only a render variable."""

import jinja2

ENV = jinja2.Environment(loader=jinja2.PackageLoader("app"), autoescape=True)


def handler(event, context):
    greeting = event["body"]
    page = jinja2.Template("<p>{{ greeting }}</p>", autoescape=True).render(greeting=greeting)
    card = ENV.get_template("card.html").render(greeting=greeting)
    return {"statusCode": 200, "body": page + card}
