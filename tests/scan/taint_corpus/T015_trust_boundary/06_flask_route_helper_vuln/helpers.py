"""Helpers shared by the app's views and handlers."""

from flask import session


def process(value):
    """Does the work for the view; the caller passes request data."""
    session["display_name"] = value  # expect: RP-T015 CWE-501
