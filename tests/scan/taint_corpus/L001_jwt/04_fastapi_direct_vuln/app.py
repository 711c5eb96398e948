"""RP-L001 (jwt), vulnerable: fastapi request data reaches the sink directly."""

import os

import jwt
from fastapi import FastAPI

SECRET_KEY = os.environ["JWT_SECRET"]
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"], options={"verify_signature": False})  # expect: RP-L001 CWE-347
    return {"ok": True}
