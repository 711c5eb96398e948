"""RP-L009 (cookie-flags), vulnerable: fastapi request data reaches the sink directly."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = JSONResponse({"ok": True})
    result.set_cookie(key="session", value=value, httponly=False)  # expect: RP-L009 CWE-614
    return result
