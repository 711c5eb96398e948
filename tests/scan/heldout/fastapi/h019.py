"""Request handler for the orders service."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    doc = Path("/srv/docs", val)
    return FileResponse(doc)


app = Starlette(routes=[Route("/lookup", lookup)])
