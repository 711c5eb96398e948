"""RP-L009: a Starlette app keeps its signed session in a cookie."""

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def whoami(request):
    return JSONResponse({"user": request.session.get("user")})


MIDDLEWARE = [
    Middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"], https_only=True),  # safe: RP-L009
]
app = Starlette(routes=[Route("/whoami", whoami)], middleware=MIDDLEWARE)
