"""RP-T012 (xss), vulnerable: aiohttp request data reaches the sink through an object's attribute."""

from aiohttp import web
from jinja2 import Environment

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        page = Environment(autoescape=False).from_string("<p>{{ q }}</p>")
        result = web.Response(text=page.render(q=self.value), content_type="text/html")  # expect: RP-T012 CWE-79
        return result


@routes.post("/items/{name}")
async def handle_item(request):
    job = Job(request.match_info["name"])
    result = job.run()
    return result
