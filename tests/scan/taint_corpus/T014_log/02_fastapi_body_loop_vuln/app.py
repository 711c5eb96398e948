"""RP-T014 (log), vulnerable: fastapi body request data reaches the sink through a list and a loop."""

import logging

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    values = []
    values.append(data["value"])
    for value in values:
        result = logging.warning(f"unknown sku {value}")  # expect: RP-T014 CWE-117
    return {"ok": True}
