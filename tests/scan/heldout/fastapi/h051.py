"""Endpoint of the customer portal."""

from fastapi import FastAPI
from pymongo import MongoClient

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    uri = "mongodb://admin:Sup3rS3cret@mongo.internal:27017/app"
    client = MongoClient(uri)
    out = client.app.items.count_documents({"sku": val})
    return {"result": str(out)}
