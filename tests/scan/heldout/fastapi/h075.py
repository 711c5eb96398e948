"""Handler of the reporting API."""

import psycopg2
from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    conn = psycopg2.connect(dsn="dbname=app")
    cur = conn.cursor()
    sql = "SELECT title FROM articles WHERE title ILIKE {}".format("%s")
    cur.execute(sql, ("%" + val + "%",))
    out = cur.fetchall()
    return {"result": str(out)}
