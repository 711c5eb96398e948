"""RP-T003 (sql), vulnerable: starlette request data reaches the sink through a list and a loop."""

import sqlite3

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    values = []
    values.append(request.path_params["name"])
    for value in values:
        cur = sqlite3.connect("/tmp/app.db").cursor()
        cur.execute("SELECT id, email FROM users WHERE name = '%s'" % value)  # expect: RP-T003 CWE-89
        result = cur.fetchall()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
