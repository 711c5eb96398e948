"""Helpers shared by the app's views and handlers."""

import os

UPLOAD_DIR = "/srv/uploads"


def process(value):
    """Does the work for the view; the caller passes request data."""
    with open(os.path.join(UPLOAD_DIR, value), "rb") as fh:  # expect: RP-T005 CWE-22
        result = fh.read()
