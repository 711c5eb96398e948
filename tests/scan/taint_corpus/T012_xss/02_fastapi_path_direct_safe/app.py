"""RP-T012 (xss), safe twin: fastapi path request data reaches the sink directly."""

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    value = item_id
    result = HTMLResponse(f"<h1>{html.escape(value)}</h1>")  # safe: RP-T012
    return result
