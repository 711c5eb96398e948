"""RP-T001 (code), vulnerable: starlette request data reaches the sink through a list and a loop."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    form = await request.form()
    values = []
    values.append(form["name"])
    for value in values:
        code = compile(f"rate = {value}", "<rule>", "exec")  # expect: RP-T001 CWE-94
        result = code
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
