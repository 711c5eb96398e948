"""RP-L003 (public ACL), safe twin: the grant names one canonical account, not a group."""

import boto3

s3 = boto3.client("s3")
AUDITOR = "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def handler(event, context):
    s3.put_object(Bucket="reports", Key="daily.csv", Body=b"x", GrantRead=AUDITOR)  # safe: RP-L003
    return {"statusCode": 201}
