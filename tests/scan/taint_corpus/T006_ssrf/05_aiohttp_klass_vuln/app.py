"""RP-T006 (ssrf), vulnerable: aiohttp request data reaches the sink through an object's attribute."""

import urllib.request

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = urllib.request.urlopen("http://" + self.value + "/status", timeout=5).read()  # expect: RP-T006 CWE-918


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    job = Job(form["name"])
    job.run()
    return web.json_response({"ok": True})
