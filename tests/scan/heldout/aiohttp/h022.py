"""Handler of the reporting API."""

import os
import smtplib

from aiohttp import web


async def ingest(request):
    data = await request.json()
    val = data["value"]
    with smtplib.SMTP("smtp.example.com", 587) as smtp:
        smtp.starttls()
        smtp.login("noreply@example.com", os.environ["SMTP_PASSWORD"])
        out = smtp.sendmail("noreply@example.com", [data["to"]], "Subject: hi\n\nhello")
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.post("/ingest", ingest)])
