"""Handler of the catalogue service."""

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True)


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    out = data
    return {"result": str(out)}
