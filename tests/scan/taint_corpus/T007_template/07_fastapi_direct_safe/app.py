"""RP-T007 (template), safe twin: fastapi request data reaches the sink directly."""

import jinja2
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = jinja2.Template("Hello {{ name }}!").render(name=value)  # safe: RP-T007
    return {"ok": True}
