"""RP-T012: a Flask view returns an HTML list of the search terms (a str is text/html)."""

from flask import Flask, request

app = Flask(__name__)


@app.get("/search")
def search():
    terms = request.args.getlist("term")
    rows = "".join(f"<li>{term}</li>" for term in terms)
    return f"<h2>You searched for</h2><ul>{rows}</ul>"  # expect: RP-T012 CWE-79
