"""RP-T005 (path), safe twin: fastapi body request data reaches the sink through a list and a loop."""

from pathlib import Path

from fastapi import FastAPI, Request

BASE = Path("/srv/reports").resolve()
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    values = []
    values.append(request.headers["x-item"])
    for value in values:
        target = (BASE / value).resolve()
        if not target.is_relative_to(BASE):
            raise ValueError("outside the reports folder")
        result = target.read_text()  # safe: RP-T005
    return {"ok": True}
