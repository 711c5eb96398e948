"""Helpers shared by the app's views and handlers."""

import os


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = os.system("convert " + value + " /tmp/thumb.png")  # expect: RP-T002 CWE-78
