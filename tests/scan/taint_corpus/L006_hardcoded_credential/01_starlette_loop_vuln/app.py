"""RP-L006 (hardcoded-credential), vulnerable: starlette request data reaches the sink through a list and a loop."""

import boto3
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def item_endpoint(request):
    values = []
    values.append(request.query_params["q"])
    for value in values:
        s3 = boto3.client("s3", aws_access_key_id="AKIAQ7EXAMPLEK3Y4RZ2", aws_secret_access_key="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")  # expect: RP-L006 CWE-798
        result = s3.put_object(Bucket="notes", Key="latest", Body=value)
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/items/{name}", item_endpoint)])
