"""RP-L009 (cookie-flags), safe twin: fastapi request data reaches the sink directly."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = JSONResponse({"ok": True})
    result.set_cookie(key="session", value=value, httponly=True, secure=True, samesite="strict")  # safe: RP-L009
    return result
