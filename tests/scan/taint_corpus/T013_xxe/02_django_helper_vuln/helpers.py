"""Helpers shared by the app's views and handlers."""

from xml.dom import minidom


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = minidom.parseString(value)  # expect: RP-T013 CWE-611
