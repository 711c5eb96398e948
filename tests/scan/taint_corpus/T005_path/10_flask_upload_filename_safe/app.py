"""RP-T005: a Flask upload is saved under the file name the client sent."""

import os

from flask import Flask, jsonify, request
from werkzeug.utils import secure_filename

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.post("/upload")
def upload():
    stored = []
    for field in request.files.getlist("documents"):
        name = secure_filename(field.filename)
        field.save(os.path.join(UPLOADS, name))  # safe: RP-T005
        stored.append(name)
    return jsonify({"stored": stored})
