"""Request handler for the orders service."""

import requests
from fastapi import FastAPI

app = FastAPI()


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


@app.get("/search")
def search(q: str):
    val = q
    host = val
    url = f"https://{host}/v1/status"
    out = requests.get(url, timeout=3).json()
    return {"result": str(out)}
