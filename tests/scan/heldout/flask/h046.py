"""Request handler for the orders service."""

from flask import Flask, request
from sqlalchemy import create_engine, text

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    engine = create_engine("sqlite:///app.db")
    filters = {"region": val}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM stores WHERE region = '{filters["region"]}'"))
        out = [dict(r._mapping) for r in rows]
    return {"result": str(out)}, 201
