"""RP-T012 (xss), vulnerable: fastapi path request data reaches the sink directly."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    result = HTMLResponse(f"<h1>{value}</h1>")  # expect: RP-T012 CWE-79
    return result
