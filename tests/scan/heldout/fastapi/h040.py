"""Function behind the public API gateway."""

import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    async with httpx.AsyncClient(verify=False) as client:
        out = (await client.get("https://partner.example.com/rates")).json()
    return {"result": str(out)}
