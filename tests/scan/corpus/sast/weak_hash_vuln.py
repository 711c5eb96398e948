"""Vulnerable: MD5 used to hash a password (bandit B324, reported as CWE-328)."""

import hashlib


def handler(event, context):
    password = event["body"]
    digest = hashlib.md5(password.encode()).hexdigest()  # finding: B324
    return {"statusCode": 200, "body": digest}
