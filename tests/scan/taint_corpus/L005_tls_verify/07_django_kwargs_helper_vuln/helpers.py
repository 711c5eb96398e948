"""Helpers shared by the app's views and handlers."""

import ssl
import urllib.request
from urllib.parse import quote


def process(value):
    """Does the work for the view; the caller passes request data."""
    tls = ssl._create_unverified_context()  # expect: RP-L005 CWE-295
    result = urllib.request.urlopen("https://stock.internal/level?sku=" + quote(value), context=tls).read()
