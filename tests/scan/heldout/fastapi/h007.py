"""View used by the admin back office."""

import ast

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    template = "lambda row: {}".format(val)
    fn = ast.literal_eval(val)
    out = repr(fn)
    return {"result": str(out)}
