"""RP-L006: session tokens are signed with a key written into the code."""

import time

import jwt


def issue(user_id):
    claims = {"sub": str(user_id), "exp": int(time.time()) + 3600}
    return jwt.encode(claims, "k3y-For-S1gning-Sessions-2024-prod", algorithm="HS256")  # expect: RP-L006 CWE-798
