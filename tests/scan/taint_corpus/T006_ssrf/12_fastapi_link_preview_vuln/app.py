"""RP-T006 (ssrf), vulnerable: a FastAPI link-preview endpoint fetches any URL it is given."""

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Preview(BaseModel):
    url: str


@app.post("/previews")
async def preview(body: Preview):
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(body.url, follow_redirects=False)  # expect: RP-T006 CWE-918
    return {"status": page.status_code, "length": len(page.content)}
