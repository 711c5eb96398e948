"""RP-T015 (trust-boundary), safe twin: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request

THEMES = {"light", "dark"}
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    if value not in THEMES:
        raise ValueError("unknown theme")
    request.session["theme"] = value  # safe: RP-T015
    return {"ok": True}
