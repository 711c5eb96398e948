"""Endpoint of the notifications service."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])


@app.get("/search")
def search(q: str):
    val = q
    out = val
    return {"result": str(out)}
