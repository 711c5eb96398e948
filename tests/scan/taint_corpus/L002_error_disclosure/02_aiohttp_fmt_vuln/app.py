"""RP-L002 (error-disclosure), vulnerable: aiohttp request data reaches the sink through str.format."""

import json

from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    value = "{}".format(data["value"]).strip()
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = web.json_response({"total": total}, status=200)
    except Exception as exc:
        result = web.json_response({"error": str(exc)}, status=500)  # expect: RP-L002 CWE-209
    return result
