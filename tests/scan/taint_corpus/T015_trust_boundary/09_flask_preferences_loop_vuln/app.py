"""RP-T015: a Flask view copies display preferences from the query into the session."""

from flask import Flask, jsonify, request, session

app = Flask(__name__)
app.secret_key = b"replaced-at-deploy"
SUPPORTED = {"lang": {"en", "de", "fr"}, "currency": {"EUR", "USD", "GBP"}}


@app.get("/preferences")
def preferences():
    for key in ("lang", "currency"):
        value = request.args.get(key)
        if value:
            session[key] = value  # expect: RP-T015 CWE-501
    return jsonify({k: session.get(k) for k in SUPPORTED})
