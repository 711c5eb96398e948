"""RP-T015 (trust-boundary), vulnerable: starlette request data reaches the sink through a list and a loop."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    values = []
    values.append(request.path_params["name"])
    for value in values:
        request.session["role"] = value  # expect: RP-T015 CWE-501
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
