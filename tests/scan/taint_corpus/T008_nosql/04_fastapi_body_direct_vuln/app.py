"""RP-T008 (nosql), vulnerable: fastapi body request data reaches the sink directly."""

from fastapi import FastAPI, Request
from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]
app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    value = request.headers["x-item"]
    result = DB.users.find_one({"username": value, "active": True})  # expect: RP-T008 CWE-943
    return {"ok": True}
