"""RP-T011 (redirect), safe twin: fastapi request data reaches the sink through a dict."""

from urllib.parse import urlparse

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

ALLOWED_HOSTS = {"shop.example.com", "accounts.example.com"}
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("redirect target not allowed")
    result = RedirectResponse(value)  # safe: RP-T011
    return result
