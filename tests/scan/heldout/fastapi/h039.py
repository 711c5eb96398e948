"""Handler of the reporting API."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    callback = {"url": val}
    return RedirectResponse(callback["url"], status_code=303)


app = Starlette(routes=[Route("/lookup", lookup)])
