"""RP-T010: a Flask login looks the user up in LDAP through ldap_auth.find_user."""

from flask import Flask, jsonify, request
from ldap_auth import find_user

app = Flask(__name__)


@app.post("/login")
def login():
    creds = request.get_json()
    entry = find_user(creds["username"])
    return jsonify({"found": entry is not None})
