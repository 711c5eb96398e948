"""RP-L006: literal credentials passed to clients and connections."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "db_password_keyword": """
        import pymysql

        def connect():
            return pymysql.connect(host="db", user="app", password="hunter2")  # L006
        """,
    "boto3_secret_by_name": """
        import boto3

        SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

        s3 = boto3.client("s3", aws_access_key_id="AKIA0000",  # L006
                          aws_secret_access_key=SECRET)
        """,
    "requests_basic_auth": """
        import requests

        def fetch():
            return requests.get("https://api.example.com/x", auth=("svc", "s3cret!"))  # L006
        """,
    "database_url": """
        from sqlalchemy import create_engine

        engine = create_engine("postgresql://app:pa55word@db.internal/orders")  # L006
        """,
    "dsn": """
        import psycopg2

        conn = psycopg2.connect("host=db dbname=orders user=app password=pa55word")  # L006
        """,
    "jwt_signing_key": """
        import jwt

        def issue(sub):
            return jwt.encode({"sub": sub}, "my-signing-key", algorithm="HS256")  # L006
        """,
    "default_password_is_still_a_password": """
        import redis

        r = redis.Redis(host="cache", password="changeme")  # L006
        """,
    "imap_login_literal_password": """
        import imaplib

        def inbox():
            imap = imaplib.IMAP4_SSL("imap.example.com")
            imap.login("reports@example.com", "w1nter-Mailbox!")  # L006
            return imap
        """,
    "pop3_pass_literal": """
        import poplib

        def inbox():
            pop = poplib.POP3_SSL("pop.example.com")
            pop.user("reports")
            pop.pass_("w1nter-Mailbox!")  # L006
            return pop
        """,
}

SAFE = {
    "from_the_secret_store": """
        import pymysql

        def handler(event, context):
            return pymysql.connect(host="db", user="app", password=context.secrets.get("db"))
        """,
    "placeholders": """
        import redis

        a = redis.Redis(password="")
        b = redis.Redis(password="********")
        c = redis.Redis(password="${REDIS_PASSWORD}")
        d = redis.Redis(password="<redacted>")
        """,
    "url_without_password": """
        import os
        from sqlalchemy import create_engine

        engine = create_engine("postgresql://app@db.internal/orders",
                               connect_args={"password": os.environ["DB_PASSWORD"]})
        """,
    "format_keyword": """
        PATTERN = "{secret}=(?P<value>[^ ]+)"

        def regex(name):
            return PATTERN.format(secret="(api_?key|token)")
        """,
    "public_key_verify": """
        import jwt

        PUBLIC = "-----BEGIN PUBLIC KEY-----\\nMIIBIjANBg...\\n-----END PUBLIC KEY-----"

        def user(token):
            return jwt.decode(token, PUBLIC, algorithms=["RS256"])
        """,
    "smtp_login_from_environment": """
        import os
        import smtplib

        def send(msg):
            with smtplib.SMTP_SSL("smtp.example.com", 465) as smtp:
                smtp.login("alerts@example.com", os.environ["SMTP_PASSWORD"])
                smtp.send_message(msg)
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_literal_credentials_are_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-798" for f in findings)
    assert not any("hunter2" in f.message or "pa55word" in f.message for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_credentials_from_elsewhere_are_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
