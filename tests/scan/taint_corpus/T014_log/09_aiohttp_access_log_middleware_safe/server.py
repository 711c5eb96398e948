"""RP-T014: an aiohttp middleware logs each request's user agent and path."""

import json
import logging

from aiohttp import web

log = logging.getLogger("access")


@web.middleware
async def access_log(request, handler):
    agent = request.headers.get("User-Agent", "-")
    log.info("ua=%s path=%s", json.dumps(agent), json.dumps(request.path))  # safe: RP-T014
    return await handler(request)


app = web.Application(middlewares=[access_log])
