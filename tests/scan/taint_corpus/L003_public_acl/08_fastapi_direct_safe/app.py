"""RP-L003 (public-acl), safe twin: fastapi request data reaches the sink directly."""

import boto3
from fastapi import FastAPI

BUCKETS = boto3.resource("s3")
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    bucket = BUCKETS.Bucket("exports")
    result = bucket.put_object(Key=value, Body=b"{}")  # safe: RP-L003
    return {"ok": True}
