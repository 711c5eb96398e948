"""Endpoint of the billing service."""

import ldap
from aiohttp import web


async def submit(request):
    form = await request.post()
    val = form["value"]
    password = form.get("password", "")
    conn = ldap.initialize("ldap://ldap.internal")
    user = val
    out = conn.search_s("dc=corp", ldap.SCOPE_SUBTREE, f"(&(uid={user})(userPassword={password}))")
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/submit", submit)])
