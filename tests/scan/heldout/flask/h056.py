"""Endpoint of the notifications service."""

import requests
from flask import Flask, request

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    session = requests.Session()
    session.verify = "/etc/ssl/certs/ca-certificates.crt"
    out = session.post("https://crm.example.com/api/leads", json=data, timeout=5).status_code
    return {"result": str(out)}, 201
