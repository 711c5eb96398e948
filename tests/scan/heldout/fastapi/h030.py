"""Handler of the catalogue service."""

import httpx
from fastapi import FastAPI, Request

app = FastAPI()


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    targets = data.get("targets", [val])
    out = []
    async with httpx.AsyncClient() as client:
        for t in targets:
            out.append((await client.get(t)).status_code)
    return {"result": str(out)}
