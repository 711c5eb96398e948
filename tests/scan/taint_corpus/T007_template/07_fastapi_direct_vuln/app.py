"""RP-T007 (template), vulnerable: fastapi request data reaches the sink directly."""

import jinja2
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items(q: str = ""):
    value = q
    result = jinja2.Template("Hello " + value + "!").render()  # expect: RP-T007 CWE-1336
    return {"ok": True}
