"""RP-L001 (jwt), safe twin: fastapi request data reaches the sink directly."""

import os

import jwt
from fastapi import FastAPI

SECRET_KEY = os.environ["JWT_SECRET"]
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"], options={"verify_aud": False})  # safe: RP-L001
    return {"ok": True}
