"""RP-L004 (cors), vulnerable: app-wide configuration."""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

MIDDLEWARE = [Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)]  # expect: RP-L004 CWE-942


async def item_endpoint(request):
    form = await request.form()
    value = form["name"]
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)], middleware=MIDDLEWARE)
