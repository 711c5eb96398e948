"""Request handler for the orders service."""

import json

from django.http import JsonResponse
from pymongo import MongoClient


client = MongoClient("mongodb://db:27017")
users = client.app.users


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    token = data.get("token")
    out = users.find_one({"reset_token": str(token), "active": True})
    return JsonResponse({"result": str(out)})
