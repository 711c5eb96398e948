"""RP-T011 (redirect), vulnerable: starlette request data reaches the sink through an object's attribute."""

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = RedirectResponse(url=self.value, status_code=303)  # expect: RP-T011 CWE-601
        return result


async def item_endpoint(request):
    job = Job(request.path_params["name"])
    result = job.run()
    return result


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
