"""RP-T014 (log), safe twin: fastapi body request data reaches the sink through a list and a loop."""

import logging

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    values = []
    values.append(data["value"])
    for value in values:
        result = logging.warning(f"unknown sku {value!r}")  # safe: RP-T014
    return {"ok": True}
