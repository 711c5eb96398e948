"""RP-L002 (error-disclosure), safe twin: starlette request data reaches the sink through a helper in helpers.py."""

from helpers import process
from starlette.applications import Starlette
from starlette.routing import Route


async def item_endpoint(request):
    form = await request.form()
    result = process(form["name"])
    return result


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
