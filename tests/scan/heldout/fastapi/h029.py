"""Request handler for the orders service."""

import secrets
import string

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    out = {"user": val, "temporary_password": password}
    return {"result": str(out)}
