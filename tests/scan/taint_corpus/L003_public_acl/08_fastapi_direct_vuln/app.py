"""RP-L003 (public-acl), vulnerable: fastapi request data reaches the sink directly."""

import boto3
from fastapi import FastAPI

BUCKETS = boto3.resource("s3")
app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    bucket = BUCKETS.Bucket("exports")
    result = bucket.put_object(Key=value, Body=b"{}", ACL="public-read")  # expect: RP-L003 CWE-732
    return {"ok": True}
