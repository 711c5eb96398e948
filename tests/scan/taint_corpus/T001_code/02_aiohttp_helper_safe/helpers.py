"""Helpers shared by the app's views and handlers."""


ALLOWED_FORMULAS = {"1 + 1", "price * qty", "qty * 2"}


def process(value):
    """Does the work for the view; the caller passes request data."""
    scope = {"__builtins__": {}}
    if value not in ALLOWED_FORMULAS:
        raise ValueError("unknown formula")
    exec("total = " + value, scope)  # safe: RP-T001
    result = scope["total"]
