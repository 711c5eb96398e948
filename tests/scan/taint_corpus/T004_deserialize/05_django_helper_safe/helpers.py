"""Helpers shared by the app's views and handlers."""

import yaml


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = yaml.load(value, Loader=yaml.SafeLoader)  # safe: RP-T004
