"""Function behind the public API gateway."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    resp = app.make_response({"result": val})
    resp.headers["Access-Control-Allow-Origin"] = "https://admin.example.com"
    resp.headers["Access-Control-Allow-Credentials"] = "true"
    return resp
