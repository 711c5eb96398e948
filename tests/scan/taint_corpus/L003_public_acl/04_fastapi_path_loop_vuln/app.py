"""RP-L003 (public-acl), vulnerable: fastapi path request data reaches the sink through a list and a loop."""

import boto3
from fastapi import FastAPI

BUCKETS = boto3.resource("s3")
app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    values = []
    values.append(item_id)
    for value in values:
        bucket = BUCKETS.Bucket("exports")
        result = bucket.put_object(Key=value, Body=b"{}", ACL="public-read")  # expect: RP-L003 CWE-732
    return {"ok": True}
