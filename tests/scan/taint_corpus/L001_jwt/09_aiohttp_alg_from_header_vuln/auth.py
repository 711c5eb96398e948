"""Token checks: the signing keys come from the environment."""

import os

import jwt

KEYS = {"RS256": os.environ.get("JWT_PUBLIC_KEY", ""), "HS256": os.environ.get("JWT_SECRET", "")}


def verify_token(token):
    alg = jwt.get_unverified_header(token)["alg"]
    return jwt.decode(token, KEYS[alg], algorithms=[alg])  # expect: RP-L001 CWE-347
