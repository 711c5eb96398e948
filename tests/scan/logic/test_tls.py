"""RP-L005: TLS certificate verification disabled."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "requests_verify_false": """
        import requests

        def fetch(url):
            return requests.get(url, timeout=5, verify=False)  # L005
        """,
    "httpx_client": """
        import httpx

        INSECURE = False

        client = httpx.Client(verify=INSECURE)  # L005
        """,
    "session_attribute": """
        import requests

        session = requests.Session()
        session.verify = False  # L005
        """,
    "urllib3_cert_none": """
        import ssl
        import urllib3

        pool = urllib3.PoolManager(cert_reqs=ssl.CERT_NONE)  # L005
        """,
    "unverified_context": """
        import ssl
        import urllib.request

        def fetch(url):
            ctx = ssl._create_unverified_context()  # L005
            return urllib.request.urlopen(url, context=ctx).read()
        """,
    "context_flags": """
        import ssl

        ctx = ssl.create_default_context()
        ctx.check_hostname = False  # L005
        ctx.verify_mode = ssl.CERT_NONE  # L005
        """,
    "aiohttp_ssl_false": """
        import aiohttp

        async def fetch(url):
            async with aiohttp.ClientSession() as s:
                async with s.get(url, ssl=False) as r:  # L005
                    return await r.text()
        """,
    "boto3_client_verify_false": """
        import boto3

        def store():
            return boto3.client("s3", endpoint_url="https://minio.internal", verify=False)  # L005
        """,
    "boto3_session_resource_verify_false": """
        import boto3

        session = boto3.session.Session()
        TABLE = session.resource("dynamodb", verify=False).Table("t")  # L005
        """,
}

SAFE = {
    "private_ca_bundle": """
        import requests

        def fetch(url):
            return requests.get(url, timeout=5, verify="/etc/ssl/internal-ca.pem")
        """,
    "default_context": """
        import ssl

        ctx = ssl.create_default_context(cafile="/etc/ssl/ca.pem")
        ctx.check_hostname = True
        """,
    "jwt_verify_is_not_tls": """
        import jwt

        def user(token, key):
            return jwt.decode(token, key, algorithms=["HS256"], options={"verify_exp": False})
        """,
    "boto3_client_with_ca_bundle": """
        import boto3

        def store():
            return boto3.client("s3", endpoint_url="https://minio.internal",
                                verify="/etc/ssl/certs/internal-ca.pem")
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_disabled_verification_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-295" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_verified_tls_is_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
