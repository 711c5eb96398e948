"""Safe twin of weak_hash_vuln: scrypt for passwords; MD5 only as a non-security ETag."""

import hashlib
import os


def handler(event, context):
    password = event["body"]
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()
    etag = hashlib.md5(digest.encode(), usedforsecurity=False).hexdigest()
    return {"statusCode": 200, "body": digest, "headers": {"etag": etag}}
