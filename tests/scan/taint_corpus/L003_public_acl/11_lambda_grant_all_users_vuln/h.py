"""RP-L003 (public ACL), vulnerable: a Grant* parameter names the AllUsers group."""

import boto3

s3 = boto3.client("s3")
EVERYONE = "uri=http://acs.amazonaws.com/groups/global/AllUsers"


def handler(event, context):
    s3.put_object(Bucket="reports", Key="daily.csv", Body=b"x", GrantRead=EVERYONE)  # expect: RP-L003 CWE-732
    return {"statusCode": 201}
