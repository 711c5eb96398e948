"""Helpers shared by the app's views and handlers."""

import os

UPLOAD_DIR = "/srv/uploads"


def process(value):
    """Does the work for the view; the caller passes request data."""
    name = os.path.basename(value)
    with open(os.path.join(UPLOAD_DIR, name), "rb") as fh:  # safe: RP-T005
        result = fh.read()
