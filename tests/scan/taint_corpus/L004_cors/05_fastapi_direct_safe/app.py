"""RP-L004 (cors), safe twin: app-wide configuration."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True, allow_methods=["*"])  # safe: RP-L004


@app.get("/items")
def list_items(q: str = ""):
    value = q
    return {"ok": True}
