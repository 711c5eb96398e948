"""RP-L006: session tokens are signed with a key written into the code."""

import os
import time

import jwt


def issue(user_id):
    claims = {"sub": str(user_id), "exp": int(time.time()) + 3600}
    return jwt.encode(claims, os.environ["SESSION_SIGNING_KEY"], algorithm="HS256")  # safe: RP-L006
