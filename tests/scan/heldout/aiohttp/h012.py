"""Handler for account self-service."""

import html

from aiohttp import web


async def handle(request):
    val = request.query["q"]
    body = "<html><body>You searched: {}</body></html>".format(html.escape(val))
    return web.Response(text=body, content_type="text/html")


app = web.Application()
app.add_routes([web.get("/lookup", handle)])
