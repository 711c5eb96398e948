"""RP-T009 (xpath), vulnerable: starlette request data reaches the sink directly."""

from lxml import etree
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

CATALOG = etree.parse("/srv/data/catalog.xml")


async def item_endpoint(request):
    form = await request.form()
    value = form["name"]
    result = CATALOG.xpath(f"//book[@id='{value}']/title/text()")  # expect: RP-T009 CWE-643
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
