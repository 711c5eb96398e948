"""Helpers shared by the app's views and handlers."""

import random

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def process(value):
    """Does the work for the view; the caller passes request data."""
    password = ''.join(random.sample(ALPHABET, 16))  # expect: RP-L008 CWE-330
    result = {value: password}
