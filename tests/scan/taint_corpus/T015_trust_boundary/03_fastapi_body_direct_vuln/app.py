"""RP-T015 (trust-boundary), vulnerable: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    request.session["theme"] = value  # expect: RP-T015 CWE-501
    return {"ok": True}
