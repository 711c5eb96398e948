"""Helpers shared by the app's views and handlers."""


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = {"statusCode": 200, "headers": {"Set-Cookie": f"session={value}; Path=/; Secure; HttpOnly; SameSite=Lax"}, "body": "{}"}  # safe: RP-L009
    return result
