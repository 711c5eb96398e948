"""RP-L008 (weak-random), safe twin: starlette request data reaches the sink through a list and a loop."""

import secrets
import string

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    form = await request.form()
    values = []
    values.append(form["name"])
    for value in values:
        result = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))  # safe: RP-L008
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
