"""RP-T007 (template), safe twin: fastapi path request data reaches the sink through a list and a loop."""

from fastapi import FastAPI
from mako.template import Template

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    values = []
    values.append(item_id)
    for value in values:
        result = Template("<p>Dear ${name | h},</p>").render(name=value)  # safe: RP-T007
    return {"ok": True}
