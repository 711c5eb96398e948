"""Helpers shared by the app's views and handlers."""

from django.http import HttpResponseRedirect


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = HttpResponseRedirect(value)  # expect: RP-T011 CWE-601
    return result
