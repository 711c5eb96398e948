"""Helpers shared by the app's views and handlers."""


import requests


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = requests.get("https://inventory.internal/api/items", params={"q": value}, verify=False, timeout=5).json()  # expect: RP-L005 CWE-295
