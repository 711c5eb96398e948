"""Handler of the reporting API."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/search")
def search(q: str):
    val = q
    template = "lambda row: {}".format(val)
    fn = eval(compile(template, "<filter>", "eval"))
    out = repr(fn)
    return {"result": str(out)}
