"""Helpers shared by the app's views and handlers."""

from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = list(DB.orders.find({"owner": str(value)}))  # safe: RP-T008
