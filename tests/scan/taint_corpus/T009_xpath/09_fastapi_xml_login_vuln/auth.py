"""Users kept in an XML document."""

import hashlib

from lxml import etree


class UserDirectory:
    def __init__(self, path):
        self.doc = etree.parse(path)

    def check(self, username, password):
        digest = hashlib.sha256(password.encode()).hexdigest()
        query = f"//user[@name='{username}' and @digest='{digest}']"
        return bool(self.doc.xpath(query))  # expect: RP-T009 CWE-643
