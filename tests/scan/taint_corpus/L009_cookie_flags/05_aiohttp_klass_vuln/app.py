"""RP-L009 (cookie-flags), vulnerable: aiohttp request data reaches the sink through an object's attribute."""

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = web.json_response({"ok": True})
        result.set_cookie("sessionid", self.value)  # expect: RP-L009 CWE-614
        return result


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    job = Job(form["name"])
    result = job.run()
    return result
