"""RP-T005: an aiohttp class-based view serves attachments through storage.py."""

import storage
from aiohttp import web


class AttachmentView(web.View):
    async def get(self):
        name = self.request.match_info["name"]
        return web.Response(body=storage.read_blob("/srv/attachments", name))


app = web.Application()
app.router.add_view("/attachments/{name}", AttachmentView)
