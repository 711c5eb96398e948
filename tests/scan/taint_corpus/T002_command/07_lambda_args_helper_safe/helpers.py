"""Helpers shared by the app's views and handlers."""

import os
import shlex


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = os.system("convert " + shlex.quote(value) + " /tmp/thumb.png")  # safe: RP-T002
