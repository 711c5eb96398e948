"""Handler for account self-service."""

from flask import Flask, request
from pymongo import MongoClient

app = Flask(__name__)


client = MongoClient("mongodb://db:27017")
users = client.app.users


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    pipeline = [{"$match": {"team": val}}, {"$group": {"_id": "$role", "n": {"$sum": 1}}}]
    out = list(users.aggregate(pipeline))
    return {"result": str(out)}, 201
