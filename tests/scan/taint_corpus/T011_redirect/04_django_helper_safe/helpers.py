"""Helpers shared by the app's views and handlers."""

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def process(value):
    """Does the work for the view; the caller passes request data."""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={"shop.example.com"}):
        raise ValueError("redirect target not allowed")
    result = HttpResponseRedirect(value)  # safe: RP-T011
    return result
