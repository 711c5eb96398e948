"""Handler of the reporting API."""

import yaml
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    class Importer:
        def __init__(self, text: str) -> None:
            self.text = text
        def parse(self):
            return yaml.load(self.text, Loader=yaml.SafeLoader)
    out = Importer(val).parse()
    return {"result": str(out)}
