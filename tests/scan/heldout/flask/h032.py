"""Webhook and integration endpoint."""

import shlex
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/hook", methods=["POST"])
def hook():
    val = request.headers.get("X-Target", "")
    class Job:
        def __init__(self, url: str) -> None:
            self.url = url
    job = Job(val)
    out = subprocess.Popen("curl -sI " + shlex.quote(job.url), shell=True).wait()
    return {"result": str(out)}
