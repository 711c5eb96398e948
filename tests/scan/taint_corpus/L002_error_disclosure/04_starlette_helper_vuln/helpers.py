"""Helpers shared by the app's views and handlers."""

import json
import traceback

from starlette.responses import JSONResponse


def process(value):
    """Does the work for the view; the caller passes request data."""
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = JSONResponse({"total": total}, status_code=200)
    except Exception as exc:
        result = JSONResponse({"error": traceback.format_exc()}, status_code=500)  # expect: RP-L002 CWE-209
    return result
