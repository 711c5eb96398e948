"""Webhook and integration endpoint."""

import logging

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    logger = logging.getLogger("search")
    params = {"q": val}
    logger.debug(f"query {params["q"]}")
    out = params
    return {"result": str(out)}
