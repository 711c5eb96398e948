"""RP-T004 (deserialize), safe twin: aiohttp request data reaches the sink through an object's attribute."""

import base64
import json

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = json.loads(base64.b64decode(self.value))  # safe: RP-T004


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    job = Job(data["value"])
    job.run()
    return web.json_response({"ok": True})
