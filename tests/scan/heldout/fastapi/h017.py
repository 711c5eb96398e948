"""Handler of the reporting API."""

from pathlib import Path

from fastapi import FastAPI

app = FastAPI()


BASE = Path("/srv/uploads").resolve()


@app.get("/files/{val}")
async def get_file(val: str):
    file_path = BASE.joinpath(val)
    out = file_path.read_text()
    return {"result": str(out)}
