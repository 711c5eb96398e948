"""RP-L005 (tls-verify), safe twin: fastapi path request data reaches the sink through a list and a loop."""

import urllib3
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    values = []
    values.append(item_id)
    for value in values:
        pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED")  # safe: RP-L005
        result = pool.request("GET", "https://search.internal/q", fields={"q": value}).data
    return {"ok": True}
