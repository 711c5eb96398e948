"""Webhook and integration endpoint."""

import logging

from fastapi import FastAPI
from fastapi import HTTPException

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    try:
        out = int(val)
    except ValueError as err:
        logging.info("bad number: %r", err)
        raise HTTPException(status_code=400, detail="q must be a number")
    return {"result": str(out)}
