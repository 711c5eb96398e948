"""Handler for account self-service."""

from aiohttp import web
from google.cloud import storage


async def item(request):
    val = request.match_info["name"]
    blob = storage.Client().bucket("acme-assets").blob(f"img/{val}")
    blob.upload_from_string(b"...")
    blob.make_public()
    out = blob.name
    return web.json_response({"result": str(out)})


app = web.Application()
app.add_routes([web.get("/items/{name}", item)])
