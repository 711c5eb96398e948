"""Endpoint of the customer portal."""

import asyncio

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    branch = val
    cmd = "git -C /srv/repo log --oneline {}".format(branch)
    proc = await asyncio.create_subprocess_shell(cmd, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return {"result": str(out)}
