"""RP-T002 (command), vulnerable: fastapi body request data reaches the sink directly."""

import subprocess

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/items")
async def create_item(request: Request):
    data = await request.json()
    value = data["value"]
    result = subprocess.Popen("ping -c 1 %s" % value, shell=True)  # expect: RP-T002 CWE-78
    return {"ok": True}
