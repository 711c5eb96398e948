"""Handler of the reporting API."""

import os

import boto3
from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    s3 = boto3.client("s3", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    out = s3.list_objects_v2(Bucket="acme-exports", Prefix=val)["KeyCount"]
    return {"result": str(out)}
