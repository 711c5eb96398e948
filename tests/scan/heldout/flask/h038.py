"""Handler of the catalogue service."""

import ast

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    config = {"default": "1", "user": val}
    for key, expr in config.items():
        config[key] = ast.literal_eval(expr)
    out = config
    return {"result": str(out)}
