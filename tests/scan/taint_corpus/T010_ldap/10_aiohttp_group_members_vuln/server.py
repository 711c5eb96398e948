"""RP-T010: an aiohttp endpoint lists the members of a directory group."""

from aiohttp import web
from ldap3 import Connection, Server

SERVER = Server("ldaps://ldap.example.com")


async def members(request):
    group = request.query["group"]
    conn = Connection(SERVER, auto_bind=True)
    flt = f"(memberOf=cn={group},ou=groups,dc=example,dc=com)"
    conn.search("ou=people,dc=example,dc=com", flt, attributes=["uid"])  # expect: RP-T010 CWE-90
    return web.json_response([str(entry.uid) for entry in conn.entries])


app = web.Application()
app.router.add_get("/members", members)
