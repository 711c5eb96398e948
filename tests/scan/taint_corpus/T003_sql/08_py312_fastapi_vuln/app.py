"""RP-T003 (sql), vulnerable, Python 3.12 syntax: nested same-quote f-string builds the query."""

import sqlite3

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/search")
async def search(request: Request):
    data = await request.json()
    cur = sqlite3.connect("/tmp/shop.db").cursor()
    cur.execute(f"SELECT sku, price FROM items WHERE name LIKE '%{data["term"]}%'")  # expect: RP-T003 CWE-89
    return {"items": cur.fetchall()}
