"""Helpers shared by the app's views and handlers."""

from defusedxml import minidom


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = minidom.parseString(value)  # safe: RP-T013
