"""Helpers shared by the app's views and handlers."""

from jinja2 import Environment

ENV = Environment(autoescape=True)
TEMPLATES = {"welcome": "Welcome to {{ shop }}", "bye": "Bye from {{ shop }}"}


def process(value):
    """Does the work for the view; the caller passes request data."""
    if value not in TEMPLATES:
        raise ValueError("unknown template")
    result = ENV.from_string(TEMPLATES[value]).render(shop="Acme")  # safe: RP-T007
