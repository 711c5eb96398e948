"""Request handler for the orders service."""

import logging

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    class AuditTrail:
        log = logging.getLogger("trail")
        def record(self, action: str) -> None:
            self.log.info("action=" + action)
    AuditTrail().record(val)
    out = "recorded"
    return {"result": str(out)}
