"""RP-L003 (public-acl), safe twin: the avatar is private; clients get a short-lived link."""

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
    s3.upload_fileobj(upload.stream, AVATARS, key, ExtraArgs={"ContentType": upload.mimetype, "ServerSideEncryption": "AES256"})  # safe: RP-L003
    link = s3.generate_presigned_url("get_object", Params={"Bucket": AVATARS, "Key": key}, ExpiresIn=300)
    return jsonify({"key": key, "url": link}), 201
