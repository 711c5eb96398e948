"""RP-L001: an aiohttp middleware authenticates requests through auth.verify_token."""

from aiohttp import web
from auth import verify_token


@web.middleware
async def require_user(request, handler):
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    request["user"] = verify_token(token)["sub"]
    return await handler(request)


app = web.Application(middlewares=[require_user])
