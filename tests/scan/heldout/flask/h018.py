"""Endpoint of the customer portal."""

from flask import Flask, request
from markupsafe import Markup, escape

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    comment = escape(val)
    return f"<div class='comment'>{comment}</div>"
