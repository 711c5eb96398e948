"""Endpoint of the notifications service."""

from flask import Flask, request
from pymongo import MongoClient

app = Flask(__name__)


client = MongoClient("mongodb://db:27017")
users = client.app.users


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    password = data["password"]
    out = users.find_one({"name": val, "password": password})
    return {"result": str(out)}, 201
