"""Request handler for the orders service."""

import ldap
from aiohttp import web
from ldap.filter import escape_filter_chars


async def submit(request):
    form = await request.post()
    val = form["value"]
    password = form.get("password", "")
    conn = ldap.initialize("ldap://ldap.internal")
    user = escape_filter_chars(val)
    out = conn.search_s("dc=corp", ldap.SCOPE_SUBTREE, f"(&(uid={user})(userPassword={password}))")
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
