"""RP-L004 (cors), vulnerable: app-wide configuration."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])  # expect: RP-L004 CWE-942


@app.get("/items")
def list_items(q: str = ""):
    value = q
    return {"ok": True}
