"""Endpoint of the billing service."""

import jwt
from fastapi import FastAPI, Request

app = FastAPI()


SECRET = open("/run/secrets/jwt").read()


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    class TokenReader:
        def read(self, token: str) -> dict:
            return jwt.decode(token, verify=False)
    out = TokenReader().read(data["token"])["sub"]
    return {"result": str(out)}
