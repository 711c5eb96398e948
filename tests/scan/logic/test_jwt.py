"""RP-L001: JWTs decoded without verification (PyJWT, python-jose, joserfc)."""

from __future__ import annotations

import pytest

from ramparts.scan.findings import Severity
from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "pyjwt_options": """
        import jwt

        def handler(event, context):
            token = event["headers"]["authorization"].split()[1]
            claims = jwt.decode(token, options={"verify_signature": False})  # L001
            return {"statusCode": 200, "body": claims["sub"]}
        """,
    "pyjwt_options_by_name": """
        from jwt import decode

        NO_CHECK = {"verify_signature": False, "verify_exp": True}

        def user(token):
            return decode(token, "", options=NO_CHECK)["sub"]  # L001
        """,
    "pyjwt_old_verify_false": """
        import jwt as pyjwt

        def user(token, key):
            return pyjwt.decode(token, key, verify=False)  # L001
        """,
    "pyjwt_alg_none": """
        import jwt

        def user(token, key):
            return jwt.decode(token, key, algorithms=["HS256", "none"])  # L001
        """,
    "pyjwt_no_algorithms": """
        import jwt

        def user(token, key):
            return jwt.decode(token, key)  # L001
        """,
    "jose_unverified_claims": """
        from jose import jwt

        def handler(event, context):
            claims = jwt.get_unverified_claims(event["token"])  # L001
            return {"statusCode": 200, "body": claims["role"]}
        """,
    "jose_options": """
        from jose import jwt

        def user(token, key):
            return jwt.decode(token, key, algorithms=["RS256"],  # L001
                              options=dict(verify_signature=False))
        """,
    "joserfc_extract": """
        from joserfc import jws

        def user(token):
            return jws.extract_compact(token.encode()).payload  # L001
        """,
    "authlib_claims_never_validated": """
        from authlib.jose import jwt

        def user(token, key):
            claims = jwt.decode(token, key)  # L001
            return claims["sub"]
        """,
    "joserfc_claims_never_validated": """
        from joserfc import jwt

        def user(token, key):
            return jwt.decode(token, key, algorithms=["RS256"]).claims  # L001
        """,
    "alg_from_unverified_header": """
        import jwt

        def verify(token, keys):
            header = jwt.get_unverified_header(token)
            return jwt.decode(token, keys[header["alg"]], algorithms=[header["alg"]])  # L001
        """,
    "jose_alg_from_unverified_header": """
        from jose import jwt

        def verify(token, key):
            chosen = jwt.get_unverified_header(token).get("alg")
            allowed = [chosen]
            return jwt.decode(token, key, algorithms=allowed)  # L001
        """,
}

# the adversarial review's decoys (issue 16, F4/F7): a verified decode elsewhere in the
# function must not excuse an unverified one
VULNERABLE.update({
    "decoy_verified_decode_in_dead_code": """
        import os
        import jwt

        def handler(event, context):
            tok = event["headers"]["authorization"]
            claims = jwt.decode(tok, options={"verify_signature": False})  # L001
            if claims.get("role") == "admin":
                return {"statusCode": 200, "body": "admin area"}
            if False:
                jwt.decode(tok, os.environ["KEY"], algorithms=["HS256"])
            return {"statusCode": 403}
        """,
    "decoy_verified_decode_of_another_token": """
        import os
        import jwt

        def handler(event, context):
            tok = event["headers"]["authorization"]
            claims = jwt.decode(tok, options={"verify_signature": False})  # L001
            other = event["headers"].get("x-other", "")
            jwt.decode(other, os.environ["KEY"], algorithms=["HS256"])
            return {"statusCode": 200 if claims.get("admin") else 403}
        """,
    "decoy_verified_decode_before_the_peek": """
        import os
        import jwt

        def handler(event, context):
            tok = event["headers"]["authorization"]
            jwt.decode(tok, os.environ["KEY"], algorithms=["HS256"])
            return jwt.decode(tok, options={"verify_signature": False})  # L001
        """,
    "peek_decides_before_the_verified_decode": """
        import os
        import jwt

        def handler(event, context):
            tok = event["headers"]["authorization"]
            peek = jwt.decode(tok, options={"verify_signature": False})  # L001
            if peek["role"] == "admin":
                return {"statusCode": 200, "body": "admin area"}
            jwt.decode(tok, os.environ["KEY"], algorithms=["HS256"])
            return {"statusCode": 403}
        """,
    "pyjwt_class_and_decode_complete": """
        import jwt
        from jwt import PyJWT, api_jwt

        def handler(event, context):
            tok = event["token"]
            a = api_jwt.decode_complete(tok, options={"verify_signature": False})  # L001
            b = PyJWT().decode(tok, options={"verify_signature": False})  # L001
            return {"statusCode": 200, "body": str((a, b))}
        """,
    "alg_from_header_is_not_excused_by_a_verified_decode": """
        import os
        import jwt

        def handler(event, context):
            tok = event["token"]
            alg = jwt.get_unverified_header(tok)["alg"]
            a = jwt.decode(tok, os.environ["K"], algorithms=[alg])  # L001
            b = jwt.decode(tok, os.environ["K"], algorithms=["HS256"])
            return {"statusCode": 200, "body": str((a, b))}
        """,
})

SAFE = {
    "pyjwt_verified": """
        import jwt

        def handler(event, context):
            claims = jwt.decode(event["token"], context.secrets.get("jwt-key"),
                                algorithms=["HS256"], audience="api")
            return {"statusCode": 200, "body": claims["sub"]}
        """,
    "peek_then_verify": """
        import jwt

        KEYS = {}

        def user(token):
            issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
            return jwt.decode(token, KEYS[issuer], algorithms=["RS256"])
        """,
    "options_from_elsewhere": """
        import jwt

        def user(token, key, options):
            return jwt.decode(token, key, options=options, algorithms=["RS256"])
        """,
    "unrelated_decode": """
        import base64

        def user(token):
            return base64.b64decode(token).decode("utf-8", errors="replace")
        """,
    "joserfc_verified": """
        from joserfc import jwt
        from joserfc.jwt import JWTClaimsRegistry

        REGISTRY = JWTClaimsRegistry(iss={"essential": True, "value": "https://id.example"})

        def user(token, key):
            decoded = jwt.decode(token, key, algorithms=["RS256"])
            REGISTRY.validate(decoded.claims)
            return decoded.claims
        """,
    "authlib_validated": """
        from authlib.jose import jwt

        def user(token, key):
            claims = jwt.decode(token, key)
            claims.validate()
            return claims["sub"]
        """,
    "kid_from_header_fixed_algorithms": """
        import jwt

        def verify(token, keys):
            kid = jwt.get_unverified_header(token)["kid"]
            return jwt.decode(token, keys[kid], algorithms=["RS256"], audience="shop")
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_unverified_jwt_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-347" and f.family == "logic" and f.remediation for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_verified_jwt_is_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()


def test_no_verification_blocks_and_missing_algorithms_warns(scan: Scan) -> None:
    _, _, skipped = scan(VULNERABLE["pyjwt_options"])
    assert [f.severity for f in skipped] == [Severity.HIGH]
    assert "verify_signature=False" in skipped[0].message
    _, _, loose = scan(VULNERABLE["pyjwt_no_algorithms"])
    assert [f.severity for f in loose] == [Severity.MEDIUM]
