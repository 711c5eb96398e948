"""RP-L009 (cookie-flags), safe twin: aiohttp request data reaches the sink through an object's attribute."""

from aiohttp import web

routes = web.RouteTableDef()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = web.json_response({"ok": True})
        result.set_cookie("sessionid", self.value, secure=True, httponly=True, samesite="Lax")  # safe: RP-L009
        return result


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    job = Job(form["name"])
    result = job.run()
    return result
