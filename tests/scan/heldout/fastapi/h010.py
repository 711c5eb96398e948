"""Handler of the reporting API."""

import os

from fastapi import FastAPI
from pymongo import MongoClient

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    uri = os.environ["MONGO_URI"]
    client = MongoClient(uri)
    out = client.app.items.count_documents({"sku": val})
    return {"result": str(out)}
