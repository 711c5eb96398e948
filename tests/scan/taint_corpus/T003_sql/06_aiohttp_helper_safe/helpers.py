"""Helpers shared by the app's views and handlers."""

from sqlalchemy import create_engine, text

ENGINE = create_engine("sqlite:////tmp/shop.db")


def process(value):
    """Does the work for the view; the caller passes request data."""
    with ENGINE.connect() as db:
        result = db.execute(text("SELECT * FROM items WHERE sku = :sku"), {"sku": value}).all()  # safe: RP-T003
