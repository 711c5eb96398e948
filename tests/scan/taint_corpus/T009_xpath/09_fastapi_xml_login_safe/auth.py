"""Users kept in an XML document."""

import hashlib

from lxml import etree


class UserDirectory:
    def __init__(self, path):
        self.doc = etree.parse(path)

    def check(self, username, password):
        digest = hashlib.sha256(password.encode()).hexdigest()
        query = "//user[@name=$name and @digest=$digest]"
        return bool(self.doc.xpath(query, name=username, digest=digest))  # safe: RP-T009
