"""Function behind the public API gateway."""

from flask import Flask, request
from flask import redirect, url_for
from shared import clean

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    after = clean(val)
    return redirect(after)
