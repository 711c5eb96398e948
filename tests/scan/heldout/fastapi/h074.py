"""Handler of the catalogue service."""

from fastapi import FastAPI
from fastapi import HTTPException

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    try:
        out = int(val)
    except ValueError as err:
        raise HTTPException(status_code=400, detail=repr(err))
    return {"result": str(out)}
