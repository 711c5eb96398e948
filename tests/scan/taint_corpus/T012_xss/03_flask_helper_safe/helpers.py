"""Helpers shared by the app's views and handlers."""

from flask import make_response
from markupsafe import Markup


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = make_response(Markup("<p>Results for <b>{}</b></p>").format(value))  # safe: RP-T012
    return result
