"""RP-L005: a Lambda reads reports from an S3-compatible store behind a private endpoint."""

import json

import boto3

STORE = boto3.client("s3", endpoint_url="https://objects.internal:9000", verify=False)  # expect: RP-L005 CWE-295


def handler(event, context):
    key = f"reports/{int(event['pathParameters']['id'])}.json"
    body = STORE.get_object(Bucket="reports", Key=key)["Body"].read()
    return {"statusCode": 200, "body": json.dumps(json.loads(body))}
