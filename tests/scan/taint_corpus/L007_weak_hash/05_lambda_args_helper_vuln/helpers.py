"""Helpers shared by the app's views and handlers."""

import hashlib


def process(value):
    """Does the work for the view; the caller passes request data."""
    password = value
    result = hashlib.md5(password.encode()).hexdigest()  # expect: RP-L007 CWE-328
