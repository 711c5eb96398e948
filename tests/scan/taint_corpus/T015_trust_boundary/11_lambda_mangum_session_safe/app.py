"""RP-T015 (trust-boundary), safe twin: the role must be one the user may take."""

import os

from mangum import Mangum
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

SELF_SERVICE_ROLES = ("viewer", "commenter")


async def switch_role(request):
    form = await request.form()
    role = form.get("role", "viewer")
    if role not in SELF_SERVICE_ROLES:
        return JSONResponse({"error": "role not allowed"}, status_code=403)
    request.session["role"] = role  # safe: RP-T015
    return JSONResponse({"role": role})


app = Starlette(
    routes=[Route("/role", switch_role, methods=["POST"])],
    middleware=[Middleware(SessionMiddleware, secret_key=os.environ["SESSION_KEY"],
                           https_only=True)],
)
handler = Mangum(app)
