"""Webhook and integration endpoint."""

import logging

from fastapi import FastAPI, Header

app = FastAPI()


@app.get("/proxy")
def proxy(x_target: str = Header(default="")):
    val = x_target
    log = logging.getLogger(__name__)
    agent = "".join(ch for ch in val if ch.isprintable())
    log.info("proxy call from agent={}".format(agent))
    out = agent
    return {"result": str(out)}
