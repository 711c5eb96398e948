"""Invoice XML to dict."""

from lxml.etree import fromstring


def parse_invoice(text):
    root = fromstring(text.encode("utf-8"))  # expect: RP-T013 CWE-611
    return {"number": root.findtext("number"), "total": root.findtext("total")}
