"""Endpoint of the notifications service."""

import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    opts = {"domain": val}
    out = subprocess.getoutput(f"whois {opts["domain"]}")
    return {"result": str(out)}
