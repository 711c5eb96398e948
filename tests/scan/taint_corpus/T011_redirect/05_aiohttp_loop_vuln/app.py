"""RP-T011 (redirect), vulnerable: aiohttp request data reaches the sink through a list and a loop."""

from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    values = []
    values.append(request.query["q"])
    for value in values:
        result = web.Response(status=302, headers={"Location": value})  # expect: RP-T011 CWE-601
    return result
