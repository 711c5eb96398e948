"""RP-T012: an aiohttp page greets the user by the name kept in a cookie."""


from aiohttp import web


def welcome_html(name):
    return "<!doctype html><p>Welcome back, " + name + "!</p>"


async def home(request):
    name = request.cookies.get("display_name", "guest")
    return web.Response(text=welcome_html(name), content_type="text/html")  # expect: RP-T012 CWE-79


app = web.Application()
app.router.add_get("/", home)
