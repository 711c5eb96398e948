"""Handler for account self-service."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


ALLOWED_NEXT = {"/", "/account", "/orders"}


@app.get("/search")
def search(q: str):
    val = q
    dest = val
    return RedirectResponse(url=dest)
