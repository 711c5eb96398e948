"""Endpoint of the notifications service."""

import ast

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    parts = ["[", val, "]"]
    code = "".join(parts)
    out = ast.literal_eval(code)
    return JSONResponse({"result": str(out)})


app = Starlette(routes=[Route("/lookup", lookup)])
