"""Endpoint of the customer portal."""

import xml.etree.ElementTree as ET

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    root = ET.parse("/srv/data/catalog.xml").getroot()
    out = root.findall(f".//item[@category='{val}']")
    return {"result": str(out)}
