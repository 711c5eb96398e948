"""RP-T012: an aiohttp page greets the user by the name kept in a cookie."""

import html

from aiohttp import web


def welcome_html(name):
    return "<!doctype html><p>Welcome back, " + html.escape(name) + "!</p>"


async def home(request):
    name = request.cookies.get("display_name", "guest")
    return web.Response(text=welcome_html(name), content_type="text/html")  # safe: RP-T012


app = web.Application()
app.router.add_get("/", home)
