"""RP-T002 (command), safe twin: fastapi body request data reaches the sink directly."""

import re
import subprocess

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", value):
        raise ValueError("not a host name")
    result = subprocess.Popen("ping -c 1 %s" % value, shell=True)  # safe: RP-T002
    return {"ok": True}
