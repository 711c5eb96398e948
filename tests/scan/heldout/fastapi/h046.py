"""Endpoint of the billing service."""

from jinja2 import Environment, BaseLoader
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    class Mailer:
        env = Environment(loader=BaseLoader())
        def render(self, name: str) -> str:
            return self.env.from_string(f"Welcome {name}!").render()
    out = Mailer().render(val)
    return JSONResponse({"result": str(out)})


app = Starlette(routes=[Route("/lookup", lookup)])
