"""Helpers shared by the app's views and handlers."""

import os

import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001
