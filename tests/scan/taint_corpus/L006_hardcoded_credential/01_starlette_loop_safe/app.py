"""RP-L006 (hardcoded-credential), safe twin: starlette request data reaches the sink through a list and a loop."""

import os

import boto3
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    values = []
    values.append(request.query_params["q"])
    for value in values:
        s3 = boto3.client("s3", aws_access_key_id=os.environ["NOTES_KEY_ID"], aws_secret_access_key=os.environ["NOTES_SECRET"])  # safe: RP-L006
        result = s3.put_object(Bucket="notes", Key="latest", Body=value)
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
