"""RP-T006 (ssrf), safe twin: only hosts on an allowlist are fetched."""

from urllib.parse import urlparse

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

ALLOWED_HOSTS = {"docs.example.com", "blog.example.com"}
app = FastAPI()


class Preview(BaseModel):
    url: str


@app.post("/previews")
async def preview(body: Preview):
    url = body.url
    parsed = urlparse(url)
    if parsed.scheme != "https" or parsed.hostname not in ALLOWED_HOSTS:
        raise HTTPException(status_code=400, detail="host not allowed")
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(url, follow_redirects=False)  # safe: RP-T006
    return {"status": page.status_code, "length": len(page.content)}
