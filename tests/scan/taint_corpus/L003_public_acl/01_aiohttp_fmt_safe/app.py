"""RP-L003 (public-acl), safe twin: aiohttp request data reaches the sink through str.format."""

import boto3
from aiohttp import web

S3 = boto3.client("s3")
routes = web.RouteTableDef()


@routes.post("/items/{name}")
async def handle_item(request):
    data = await request.json()
    value = "{}".format(data["value"]).strip()
    result = S3.put_object(Bucket="uploads", Key="avatars/latest.png", Body=value, ACL="private")  # safe: RP-L003
    return web.json_response({"ok": True})
