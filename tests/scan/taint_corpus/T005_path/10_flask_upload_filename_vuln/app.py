"""RP-T005: a Flask upload is saved under the file name the client sent."""

import os

from flask import Flask, jsonify, request

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.post("/upload")
def upload():
    stored = []
    for field in request.files.getlist("documents"):
        name = field.filename
        field.save(os.path.join(UPLOADS, name))  # expect: RP-T005 CWE-22
        stored.append(name)
    return jsonify({"stored": stored})
