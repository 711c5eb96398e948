"""RP-T011 (redirect), vulnerable: flask request data reaches the sink directly."""

from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.values["file"]
    result = redirect(value)  # expect: RP-T011 CWE-601
    return result
