"""Endpoint of the billing service."""

import os

from aiohttp import web


async def item(request):
    val = request.match_info["name"]
    full = "/srv/static/%s" % val
    out = web.FileResponse(full)
    return out


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
