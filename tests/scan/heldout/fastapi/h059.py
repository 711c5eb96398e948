"""Endpoint of the notifications service."""

import requests
from fastapi import FastAPI
from fastapi import HTTPException

app = FastAPI()


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.get("/search")
def search(q: str):
    val = q
    host = val
    if host not in ALLOWED_HOSTS:
        raise HTTPException(status_code=400)
    url = f"https://{host}/v1/status"
    out = requests.get(url, timeout=3).json()
    return {"result": str(out)}
