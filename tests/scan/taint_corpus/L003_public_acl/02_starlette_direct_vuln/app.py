"""RP-L003 (public-acl), vulnerable: starlette request data reaches the sink directly."""

import boto3
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

S3 = boto3.client("s3")


async def item_endpoint(request):
    value = request.path_params["name"]
    result = S3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": value, "ACL": "public-read"}, ExpiresIn=600)  # expect: RP-L003 CWE-732
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
