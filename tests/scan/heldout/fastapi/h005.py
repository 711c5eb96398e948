"""Request handler for the orders service."""

import boto3
from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    bucket = boto3.resource("s3").Bucket("acme-exports")
    bucket.upload_file("/tmp/export.zip", f"exports/{val}.zip", ExtraArgs={"ACL": "bucket-owner-full-control"})
    out = "uploaded"
    return {"result": str(out)}
