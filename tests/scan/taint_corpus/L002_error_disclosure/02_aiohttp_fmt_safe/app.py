"""RP-L002 (error-disclosure), safe twin: aiohttp request data reaches the sink through str.format."""

import json
import logging

from aiohttp import web

LOG = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    value = "{}".format(data["value"]).strip()
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = web.json_response({"total": total}, status=200)
    except Exception:
        LOG.exception("order total failed")
        result = web.json_response({"error": "internal error"}, status=500)  # safe: RP-L002
    return result
