"""Function behind the public API gateway."""

import jwt
from fastapi import FastAPI, Header

app = FastAPI()


SECRET = open("/run/secrets/jwt").read().strip()


@app.get("/proxy")
def proxy(x_target: str = Header(default="")):
    val = x_target
    payload = jwt.decode(val, algorithms=["HS256"], options={"verify_signature": False})
    out = payload["user_id"]
    return {"result": str(out)}
