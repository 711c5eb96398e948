"""RP-L007: md5/sha1 protecting passwords, secrets and tokens (not checksums)."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "md5_password": """
        import hashlib

        def store(user, password):
            user.pw = hashlib.md5(password.encode()).hexdigest()  # L007
        """,
    "sha1_into_token_name": """
        import hashlib

        def issue(user_id, salt):
            api_token = hashlib.sha1(f"{user_id}{salt}".encode()).hexdigest()  # L007
            return api_token
        """,
    "hashlib_new": """
        import hashlib

        def check(secret, stored):
            return hashlib.new("md5", secret).hexdigest() == stored  # L007
        """,
    "update": """
        import hashlib

        def digest(pwd):
            h = hashlib.md5()
            h.update(pwd.encode())  # L007
            return h.hexdigest()
        """,
}

SAFE = {
    "checksum": """
        import hashlib

        def etag(body):
            return hashlib.md5(body, usedforsecurity=False).hexdigest()
        """,
    "cache_key": """
        import hashlib

        def cache_key(url):
            key = hashlib.sha1(url.encode()).hexdigest()
            return key
        """,
    "strong_password_hash": """
        import hashlib

        def store(password, salt):
            return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_weak_hash_on_secrets_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-328" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_checksums_are_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
