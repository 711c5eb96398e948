"""View used by the admin back office."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.responses import JSONResponse
from starlette.routing import Route


async def lookup(request):
    val = request.query_params["q"]
    doc = Path("/srv/docs", val).resolve()
    if not doc.is_relative_to(Path("/srv/docs").resolve()):
        return JSONResponse({"error": "not found"}, status_code=404)
    return FileResponse(doc)


app = Starlette(routes=[Route("/lookup", lookup)])
