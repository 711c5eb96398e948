"""RP-T008 (nosql), safe twin: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request
from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    value = request.headers["x-item"]
    result = DB.users.find_one({"username": str(value), "active": True})  # safe: RP-T008
    return {"ok": True}
