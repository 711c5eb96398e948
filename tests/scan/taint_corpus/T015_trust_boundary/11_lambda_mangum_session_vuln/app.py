"""RP-T015 (trust-boundary), vulnerable: a Lambda (an ASGI app behind Mangum) trusts a posted role."""

import os

from mangum import Mangum
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def switch_role(request):
    form = await request.form()
    role = form.get("role", "viewer")
    request.session["role"] = role  # expect: RP-T015 CWE-501
    return JSONResponse({"role": role})


app = Starlette(
    routes=[Route("/role", switch_role, methods=["POST"])],
    middleware=[Middleware(SessionMiddleware, secret_key=os.environ["SESSION_KEY"],
                           https_only=True)],
)
handler = Mangum(app)
