"""Invoice XML to dict."""

from defusedxml.ElementTree import fromstring


def parse_invoice(text):
    root = fromstring(text.encode("utf-8"))  # safe: RP-T013
    return {"number": root.findtext("number"), "total": root.findtext("total")}
