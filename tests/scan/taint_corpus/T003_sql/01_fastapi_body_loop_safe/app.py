"""RP-T003 (sql), safe twin: fastapi body request data reaches the sink through a list and a loop."""

import sqlite3

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    values = []
    values.append(data["value"])
    for value in values:
        cur = sqlite3.connect("/tmp/app.db").cursor()
        cur.execute("SELECT id, email FROM users WHERE name = ?", (value,))  # safe: RP-T003
        result = cur.fetchall()
    return {"ok": True}
