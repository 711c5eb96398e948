"""Handler for account self-service."""

import boto3
from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    s3 = boto3.client("s3", aws_access_key_id="AKIAQ3EXAMPLE7JKWP4Z", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
    out = s3.list_objects_v2(Bucket="acme-exports", Prefix=val)["KeyCount"]
    return {"result": str(out)}
