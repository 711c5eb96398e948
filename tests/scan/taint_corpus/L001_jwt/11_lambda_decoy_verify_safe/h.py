"""RP-L001 (jwt), safe twin: the unverified read only picks the issuer's key, then verifies."""

import os

import jwt

KEYS = {"https://id.example": os.environ.get("ID_KEY", "")}


def handler(event, context):
    tok = event["headers"]["authorization"]
    issuer = jwt.decode(tok, options={"verify_signature": False})["iss"]  # safe: RP-L001
    claims = jwt.decode(tok, KEYS[issuer], algorithms=["RS256"])
    if claims.get("role") == "admin":
        return {"statusCode": 200, "body": "admin area"}
    return {"statusCode": 403}
