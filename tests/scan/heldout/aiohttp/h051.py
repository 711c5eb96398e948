"""Request handler for the orders service."""

import smtplib

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    with smtplib.SMTP("smtp.example.com", 587) as smtp:
        smtp.starttls()
        smtp.login("noreply@example.com", "mailpass-2024")
        out = smtp.sendmail("noreply@example.com", [data["to"]], "Subject: hi\n\nhello")
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
