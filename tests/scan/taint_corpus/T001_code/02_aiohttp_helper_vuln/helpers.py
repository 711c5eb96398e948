"""Helpers shared by the app's views and handlers."""


def process(value):
    """Does the work for the view; the caller passes request data."""
    scope = {"__builtins__": {}}
    exec("total = " + value, scope)  # expect: RP-T001 CWE-94
    result = scope["total"]
