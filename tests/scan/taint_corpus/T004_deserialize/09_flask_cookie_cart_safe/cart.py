"""Serialises carts for the cookie."""

import base64
import json


class CartStore:
    def restore(self, cookie):
        if not cookie:
            return []
        raw = base64.urlsafe_b64decode(cookie.encode())
        return json.loads(raw)  # safe: RP-T004
