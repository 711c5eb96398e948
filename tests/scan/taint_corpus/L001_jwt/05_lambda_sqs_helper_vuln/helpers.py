"""Helpers shared by the app's views and handlers."""

import jwt


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = jwt.decode(value, options={"verify_signature": False})  # expect: RP-L001 CWE-347
