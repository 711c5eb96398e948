"""Handler of the catalogue service."""

from pathlib import Path

from fastapi import FastAPI
from fastapi import HTTPException

app = FastAPI()


BASE = Path("/srv/uploads").resolve()


@app.get("/files/{val}")
async def get_file(val: str):
    file_path = BASE.joinpath(val).resolve()
    if not file_path.is_relative_to(BASE):
        raise HTTPException(status_code=404)
    out = file_path.read_text()
    return {"result": str(out)}
