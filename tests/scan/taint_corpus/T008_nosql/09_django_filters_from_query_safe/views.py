"""RP-T008: a Django product search turns every query parameter into a Mongo filter."""

from django.http import JsonResponse
from pymongo import MongoClient

PRODUCTS = MongoClient("mongodb://mongo:27017")["shop"]["products"]
FILTERABLE = {"category", "brand", "colour"}


def build_filter(params):
    query = {}
    for key, value in params.items():
        if key in FILTERABLE:
            query[key] = str(value)
    return query


def product_search(request):
    query = build_filter(request.GET)
    found = PRODUCTS.find(query, {"_id": 0}).limit(50)  # safe: RP-T008
    return JsonResponse({"products": list(found)})
