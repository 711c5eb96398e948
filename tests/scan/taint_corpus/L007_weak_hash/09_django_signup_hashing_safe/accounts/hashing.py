"""Password hashing for stored accounts."""

import hashlib
import os


def hash_password(password):
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()  # safe: RP-L007
    return f"{salt.hex()}${digest}"
