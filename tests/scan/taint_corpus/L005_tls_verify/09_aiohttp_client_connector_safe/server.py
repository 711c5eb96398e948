"""RP-L005: an aiohttp handler calls the payments API through a shared ClientSession."""

import ssl

import aiohttp
from aiohttp import web

PAYMENTS = "https://payments.internal/api/charges"


async def make_session(app):
    connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile="/etc/ssl/internal-ca.pem"))  # safe: RP-L005
    app["http"] = aiohttp.ClientSession(connector=connector)


async def charge(request):
    body = await request.json()
    async with request.app["http"].post(PAYMENTS, json={"amount": int(body["amount"])}) as resp:
        return web.json_response(await resp.json(), status=resp.status)


app = web.Application()
app.on_startup.append(make_session)
app.router.add_post("/charge", charge)
