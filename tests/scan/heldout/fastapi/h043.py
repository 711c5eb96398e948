"""Handler of the catalogue service."""

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    return HTMLResponse(f"<p>Hello {html.escape(val)}</p>")
