"""RP-L004 (cors), vulnerable: aiohttp request data reaches the sink through str.format."""

from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    value = "{}".format(form["name"]).strip()
    result = web.json_response({"q": value}, headers={"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"})  # expect: RP-L004 CWE-942
    return result
