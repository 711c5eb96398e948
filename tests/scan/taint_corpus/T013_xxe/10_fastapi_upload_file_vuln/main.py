"""RP-T013: a FastAPI endpoint imports a product feed uploaded as XML."""

from fastapi import FastAPI, UploadFile
from lxml import etree

app = FastAPI()
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@app.post("/feeds")
async def import_feed(feed: UploadFile):
    data = await feed.read()
    root = etree.fromstring(data)  # expect: RP-T013 CWE-611
    return {"products": len(root.findall("product"))}
