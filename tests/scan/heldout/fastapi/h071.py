"""Request handler for the orders service."""

import random
import string

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    password = "".join(random.choices(string.ascii_letters + string.digits, k=16))
    out = {"user": val, "temporary_password": password}
    return {"result": str(out)}
