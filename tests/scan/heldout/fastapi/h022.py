"""Handler of the catalogue service."""

from fastapi import FastAPI, Request
from pymongo import MongoClient

app = FastAPI()


client = MongoClient("mongodb://db:27017")
users = client.app.users


@app.post("/events")
async def events(request: Request):
    data = await request.json()
    val = data["value"]
    query = {"$where": f"this.name == '{val}'"}
    out = users.count_documents(query)
    return {"result": str(out)}
