"""RP-T001 (code), safe twin: starlette request data reaches the sink through a list and a loop."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    form = await request.form()
    values = []
    values.append(form["name"])
    for value in values:
        code = compile(f"rate = {float(value)}", "<rule>", "exec")  # safe: RP-T001
        result = code
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
