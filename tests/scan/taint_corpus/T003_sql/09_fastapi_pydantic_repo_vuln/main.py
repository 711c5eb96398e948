"""RP-T003: a FastAPI search whose sort column comes from the JSON body."""

from fastapi import FastAPI
from pydantic import BaseModel
from store.repo import OrderRepo

app = FastAPI()
repo = OrderRepo("/tmp/orders.db")


class OrderFilter(BaseModel):
    status: str = "open"
    sort: str = "created_at"


@app.post("/orders/search")
def search_orders(filters: OrderFilter):
    return {"orders": repo.search(filters.status, filters.sort)}
