"""Helpers shared by the app's views and handlers."""


import httpx


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = httpx.post(f"{value}/hooks/deploy", json={"ok": True})  # expect: RP-T006 CWE-918
