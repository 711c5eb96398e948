"""Endpoint of the customer portal."""

import shlex
import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    opts = {"domain": val}
    out = subprocess.getoutput(f"whois {shlex.quote(opts["domain"])}")
    return {"result": str(out)}
