"""Serialises carts for the cookie."""

import base64
import pickle


class CartStore:
    def restore(self, cookie):
        if not cookie:
            return []
        raw = base64.urlsafe_b64decode(cookie.encode())
        return pickle.loads(raw)  # expect: RP-T004 CWE-502
