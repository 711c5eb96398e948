"""Endpoint of the notifications service."""

from fastapi import FastAPI
from pymongo import MongoClient

app = FastAPI()


client = MongoClient("mongodb://db:27017")
users = client.app.users


@app.get("/search")
def search(q: str):
    val = q
    js = "function() { return this.owner == '" + val + "'; }"
    out = users.find_one({"$where": js})
    return {"result": str(out)}
