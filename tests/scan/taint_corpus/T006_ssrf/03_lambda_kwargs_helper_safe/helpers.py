"""Helpers shared by the app's views and handlers."""


import httpx

WEBHOOKS = {"ci": "https://ci.example.com", "chat": "https://chat.example.com"}


def process(value):
    """Does the work for the view; the caller passes request data."""
    if value not in WEBHOOKS:
        raise ValueError("unknown webhook")
    result = httpx.post(f"{WEBHOOKS[value]}/hooks/deploy", json={"ok": True})  # safe: RP-T006
