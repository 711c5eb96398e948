"""Webhook and integration endpoint."""

from fastapi import FastAPI
from pymongo import MongoClient

app = FastAPI()


client = MongoClient("mongodb://db:27017")
users = client.app.users


@app.get("/search")
def search(q: str):
    val = q
    js = None
    out = users.find_one({"owner": val})
    return {"result": str(out)}
