"""RP-T003 (sql), safe twin, Python 3.12 syntax: the term is a bound parameter."""

import sqlite3

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/search")
async def search(request: Request):
    data = await request.json()
    cur = sqlite3.connect("/tmp/shop.db").cursor()
    cur.execute("SELECT sku, price FROM items WHERE name LIKE ?", (f"%{data["term"]}%",))  # safe: RP-T003
    return {"items": cur.fetchall()}
