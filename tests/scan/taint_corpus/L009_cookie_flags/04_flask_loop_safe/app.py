"""RP-L009 (cookie-flags), safe twin: flask request data reaches the sink through a list and a loop."""

from flask import Flask, make_response, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    values = []
    values.append(request.values["file"])
    for value in values:
        result = make_response({"ok": True})
        result.set_cookie("session_id", value, secure=True, httponly=True, samesite="Lax")  # safe: RP-L009
    return result
