"""RP-T011 (redirect), vulnerable: fastapi request data reaches the sink through a dict."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    params = {"value": q, "page": 1}
    value = params["value"]
    result = RedirectResponse(value)  # expect: RP-T011 CWE-601
    return result
