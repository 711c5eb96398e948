"""RP-T006 (ssrf), safe twin: aiohttp request data reaches the sink through an object's attribute."""

import urllib.request
from urllib.parse import quote

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = urllib.request.urlopen("https://status.example.com/" + quote(self.value), timeout=5).read()  # safe: RP-T006


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    job = Job(form["name"])
    job.run()
    return web.json_response({"ok": True})
