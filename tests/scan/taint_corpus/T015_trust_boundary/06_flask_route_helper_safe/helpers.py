"""Helpers shared by the app's views and handlers."""

import uuid

from flask import session


def process(value):
    """Does the work for the view; the caller passes request data."""
    session["cart_id"] = str(uuid.UUID(value))  # safe: RP-T015
