"""Issues a session token for a signed-in user."""

from flask import Flask, jsonify, request
from tokens import issue

app = Flask(__name__)


@app.post("/session")
def new_session():
    return jsonify({"token": issue(int(request.form["user_id"]))})
