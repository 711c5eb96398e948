"""RP-L003 (public-acl), vulnerable: a Flask avatar upload stored world-readable."""

import uuid

import boto3
from flask import Flask, jsonify, request
from werkzeug.utils import secure_filename

AVATARS = "example-avatars"
app = Flask(__name__)
s3 = boto3.client("s3")


@app.route("/users/<int:user_id>/avatar", methods=["POST"])
def upload_avatar(user_id):
    upload = request.files["avatar"]
    key = f"avatars/{user_id}/{uuid.uuid4().hex}-{secure_filename(upload.filename)}"
    s3.upload_fileobj(upload.stream, AVATARS, key, ExtraArgs={"ContentType": upload.mimetype, "ACL": "public-read"})  # expect: RP-L003 CWE-732
    return jsonify({"key": key}), 201
