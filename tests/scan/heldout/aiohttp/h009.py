"""Handler of the reporting API."""

from aiohttp import web
from lxml import etree


async def item(request):
    val = request.match_info["name"]
    doc = etree.parse("/srv/data/users.xml")
    query = {"user": val}
    out = doc.xpath("//user[name=$u]/role", u=query["user"])
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
