"""Helpers shared by the app's views and handlers."""

from jinja2 import Environment

ENV = Environment(autoescape=True)


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = ENV.from_string(value).render(shop="Acme")  # expect: RP-T007 CWE-1336
