"""Helpers shared by the app's views and handlers."""

import boto3

S3 = boto3.client("s3")


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = S3.upload_file("/tmp/report.pdf", "reports", value, ExtraArgs={"ServerSideEncryption": "AES256"})  # safe: RP-L003
