"""Token checks: the signing keys come from the environment."""

import os

import jwt

KEYS = {"RS256": os.environ.get("JWT_PUBLIC_KEY", ""), "HS256": os.environ.get("JWT_SECRET", "")}


def verify_token(token):
    return jwt.decode(token, KEYS["RS256"], algorithms=["RS256"], audience="shop")  # safe: RP-L001
