"""Request handler for the orders service."""

import os
from pathlib import Path

from aiohttp import web


async def item(request):
    val = request.match_info["name"]
    root = Path("/srv/static").resolve()
    if not (root / val).resolve().is_relative_to(root):
        raise web.HTTPNotFound()
    full = "/srv/static/%s" % val
    out = web.FileResponse(full)
    return out


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
