"""Request handler for the orders service."""

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    return HTMLResponse(f"<p>Hello {val}</p>")
