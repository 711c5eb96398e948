"""RP-T014: an aiohttp middleware logs each request's user agent and path."""

import logging

from aiohttp import web

log = logging.getLogger("access")


@web.middleware
async def access_log(request, handler):
    agent = request.headers.get("User-Agent", "-")
    log.info("ua=%s path=%s", agent, request.path)  # expect: RP-T014 CWE-117
    return await handler(request)


app = web.Application(middlewares=[access_log])
