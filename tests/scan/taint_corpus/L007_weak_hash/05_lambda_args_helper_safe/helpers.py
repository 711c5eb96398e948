"""Helpers shared by the app's views and handlers."""

import hashlib
import os


def process(value):
    """Does the work for the view; the caller passes request data."""
    password = value
    salt = os.urandom(16)
    result = salt.hex() + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()  # safe: RP-L007
