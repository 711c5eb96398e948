"""Handler of the reporting API."""

import boto3
from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    s3 = boto3.client("s3")
    post = s3.generate_presigned_post("acme-uploads", f"avatars/{val}", Fields={"acl": "public-read"}, Conditions=[{"acl": "public-read"}])
    out = post["url"]
    return {"result": str(out)}, 201
