"""RP-T004 (deserialize), vulnerable: aiohttp request data reaches the sink through an object's attribute."""

import base64
import pickle

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = pickle.loads(base64.b64decode(self.value))  # expect: RP-T004 CWE-502


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    job = Job(data["value"])
    job.run()
    return web.json_response({"ok": True})
