"""Helpers shared by the app's views and handlers."""

import logging

LOG = logging.getLogger(__name__)


def process(value):
    """Does the work for the view; the caller passes request data."""
    clean = value.replace("\r", " ").replace("\n", " ")
    result = LOG.info("login failed for " + clean)  # safe: RP-T014
