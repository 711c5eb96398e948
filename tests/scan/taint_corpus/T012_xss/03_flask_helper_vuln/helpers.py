"""Helpers shared by the app's views and handlers."""

from flask import make_response
from markupsafe import Markup


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = make_response(Markup(f"<p>Results for <b>{value}</b></p>"))  # expect: RP-T012 CWE-79
    return result
