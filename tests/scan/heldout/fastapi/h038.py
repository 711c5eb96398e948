"""Endpoint of the notifications service."""

import re
import xml.etree.ElementTree as ET

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    root = ET.parse("/srv/data/catalog.xml").getroot()
    if not re.fullmatch(r"[A-Za-z0-9 -]{1,40}", val):
        return {"result": []}
    out = root.findall(f".//item[@category='{val}']")
    return {"result": str(out)}
