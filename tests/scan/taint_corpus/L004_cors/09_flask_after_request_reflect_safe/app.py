"""RP-L004: a Flask app adds CORS headers to every response by hand."""

from flask import Flask, jsonify, request

app = Flask(__name__)
TRUSTED_ORIGINS = {"https://app.example.com", "https://admin.example.com"}


@app.after_request
def add_cors(response):
    origin = request.headers.get("Origin", "")
    if origin in TRUSTED_ORIGINS:
        response.headers["Access-Control-Allow-Origin"] = origin  # safe: RP-L004
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"
    return response


@app.get("/me")
def me():
    return jsonify({"user": request.cookies.get("user_id")})
