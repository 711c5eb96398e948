"""Helpers shared by the app's views and handlers."""

import random

FEATURED = ["lamp", "desk", "chair", "rug", "shelf"]


def process(value):
    """Does the work for the view; the caller passes request data."""
    sample = random.sample(FEATURED, 3)  # safe: RP-L008
    result = {value: sample}
