"""RP-L004 (cors), safe twin: aiohttp request data reaches the sink through str.format."""

from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    form = await request.post()
    value = "{}".format(form["name"]).strip()
    result = web.json_response({"q": value}, headers={"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true"})  # safe: RP-L004
    return result
