"""RP-T012: a Flask view returns an HTML list of the search terms (a str is text/html)."""

from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


@app.get("/search")
def search():
    terms = request.args.getlist("term")
    rows = "".join(f"<li>{escape(term)}</li>" for term in terms)
    return f"<h2>You searched for</h2><ul>{rows}</ul>"  # safe: RP-T012
