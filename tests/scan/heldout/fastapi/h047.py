"""Endpoint of the notifications service."""

import asyncio
import shlex

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    value: str


@app.post("/items")
async def create(item: Item):
    val = item.value
    branch = val
    cmd = "git -C /srv/repo log --oneline {}".format(shlex.quote(branch))
    proc = await asyncio.create_subprocess_shell(cmd, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return {"result": str(out)}
