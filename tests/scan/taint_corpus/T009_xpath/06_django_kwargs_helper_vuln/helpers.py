"""Helpers shared by the app's views and handlers."""

from lxml import etree

INVENTORY = etree.parse("/srv/data/inventory.xml")


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = INVENTORY.xpath("//item[@sku='%s']/@qty" % value)  # expect: RP-T009 CWE-643
