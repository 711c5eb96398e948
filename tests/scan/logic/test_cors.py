"""RP-L004: any origin allowed together with credentials."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "flask_cors_default_origins": """
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app, supports_credentials=True)  # L004
        """,
    "flask_cors_resources_star": """
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app, resources={r"/api/*": {"origins": "*"}}, supports_credentials=True)  # L004
        """,
    "starlette_middleware": """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # L004
        """,
    "starlette_regex": """
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware

        middleware = [Middleware(CORSMiddleware, allow_origin_regex=".*",  # L004
                                 allow_credentials=True)]
        """,
    "django_settings": """
        CORS_ALLOW_ALL_ORIGINS = True  # L004
        CORS_ALLOW_CREDENTIALS = True
        """,
    "lambda_reflects_origin": """
        def handler(event, context):
            return {
                "statusCode": 200,
                "headers": {
                    "Access-Control-Allow-Origin": event["headers"].get("origin"),  # L004
                    "Access-Control-Allow-Credentials": "true",
                },
                "body": "ok",
            }
        """,
    "headers_assigned": """
        def after(response):
            response.headers["Access-Control-Allow-Origin"] = "*"  # L004
            response.headers["Access-Control-Allow-Credentials"] = "true"
            return response
        """,
    "echo_behind_a_truthiness_test": """
        def add_cors(request, response):
            origin = request.headers.get("Origin")
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin  # L004
            response.headers["Access-Control-Allow-Credentials"] = "true"
            return response
        """,
}

SAFE = {
    "flask_cors_listed_origins": """
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app, origins=["https://app.example.com"], supports_credentials=True)
        """,
    "flask_cors_public_without_credentials": """
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app)
        """,
    "starlette_no_credentials": """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)
        """,
    "django_listed": """
        CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
        CORS_ALLOW_CREDENTIALS = True
        """,
    "lambda_star_without_credentials": """
        def handler(event, context):
            return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"},
                    "body": "ok"}
        """,
    "echo_after_equality_check": """
        def add_cors(request, response):
            origin = request.headers.get("Origin", "")
            if origin == "https://app.example.com" or origin == "https://admin.example.com":
                response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            return response
        """,
    "echo_after_early_return": """
        ALLOWED = {"https://app.example.com"}

        def handler(event, context):
            origin = event["headers"].get("origin", "")
            if origin not in ALLOWED:
                return {"statusCode": 403, "body": ""}
            return {"statusCode": 200, "body": "{}", "headers": {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true"}}
        """,
    "echo_after_allowlist_function": """
        import re

        TRUSTED = re.compile(r"https://[a-z]+\\.example\\.com")

        def add_cors(request, response):
            origin = request.headers.get("Origin", "")
            if TRUSTED.fullmatch(origin):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Allow-Credentials"] = "true"
            return response
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_wildcard_cors_with_credentials_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-942" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_listed_origins_or_no_credentials_are_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
