"""Handler of the catalogue service."""

from flask import Flask, request
from markupsafe import Markup

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    comment = Markup(val)
    return f"<div class='comment'>{comment}</div>"
