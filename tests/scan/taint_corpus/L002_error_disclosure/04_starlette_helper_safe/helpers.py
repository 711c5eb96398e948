"""Helpers shared by the app's views and handlers."""

import json
import logging

from starlette.responses import JSONResponse

LOG = logging.getLogger(__name__)


def process(value):
    """Does the work for the view; the caller passes request data."""
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = JSONResponse({"total": total}, status_code=200)
    except Exception:
        LOG.exception("order total failed")
        result = JSONResponse({"error": "internal error"}, status_code=500)  # safe: RP-L002
    return result
