"""Password hashing for stored accounts."""

import hashlib
import os


def hash_password(password):
    salt = os.urandom(16)
    digest = hashlib.sha1(salt + password.encode()).hexdigest()  # expect: RP-L007 CWE-328
    return f"{salt.hex()}${digest}"
