"""RP-T005 (path), vulnerable: fastapi body request data reaches the sink through a list and a loop."""

from pathlib import Path

from fastapi import FastAPI, Request

BASE = Path("/srv/reports").resolve()
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    values = []
    values.append(request.headers["x-item"])
    for value in values:
        result = (BASE / value).read_text()  # expect: RP-T005 CWE-22
    return {"ok": True}
