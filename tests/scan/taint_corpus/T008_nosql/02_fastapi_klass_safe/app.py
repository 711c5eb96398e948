"""RP-T008 (nosql), safe twin: fastapi request data reaches the sink through an object's attribute."""

from fastapi import FastAPI
from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]
app = FastAPI()


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = list(DB.orders.find({"owner": str(self.value)}))  # safe: RP-T008


@app.get("/items")
def list_items(q: str = ""):
    job = Job(q)
    job.run()
    return {"ok": True}
