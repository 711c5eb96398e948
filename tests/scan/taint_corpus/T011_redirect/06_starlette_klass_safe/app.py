"""RP-T011 (redirect), safe twin: starlette request data reaches the sink through an object's attribute."""

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

NEXT_PAGES = {"/", "/account", "/orders"}


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        if self.value not in NEXT_PAGES:
            raise ValueError("unknown next page")
        result = RedirectResponse(url=self.value, status_code=303)  # safe: RP-T011
        return result


async def item_endpoint(request):
    job = Job(request.path_params["name"])
    result = job.run()
    return result


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
