"""RP-L001 (jwt), vulnerable: fastapi body request data reaches the sink through a list and a loop."""

import os

import jwt
from fastapi import FastAPI, Request

SECRET_KEY = os.environ["JWT_SECRET"]
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    values = []
    values.append(data["value"])
    for value in values:
        result = jwt.decode(value, SECRET_KEY)  # expect: RP-L001 CWE-347
    return {"ok": True}
