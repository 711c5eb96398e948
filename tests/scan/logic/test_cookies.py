"""RP-L009: session/auth cookies without Secure or HttpOnly."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "flask_defaults": """
        from flask import make_response

        def login(sid):
            resp = make_response("ok")
            resp.set_cookie("session", sid)  # L009
            return resp
        """,
    "secure_only": """
        def login(response, jwt_token):
            response.set_cookie(key="auth", value=jwt_token, secure=True)  # L009
        """,
    "lambda_header": """
        def handler(event, context):
            sid = context.request_id
            return {"statusCode": 200, "headers": {"Set-Cookie": f"sid={sid}; Path=/"},  # L009
                    "body": "ok"}
        """,
    "apigw_v2_cookies": """
        def handler(event, context):
            return {"statusCode": 200, "cookies": ["token=abc; Secure; Path=/"],  # L009
                    "body": "ok"}
        """,
    "django_settings": """
        SESSION_COOKIE_SECURE = False  # L009
        SESSION_COOKIE_HTTPONLY = True
        """,
    "starlette_session_middleware_default": """
        import os

        from starlette.applications import Starlette
        from starlette.middleware.sessions import SessionMiddleware

        app = Starlette()
        app.add_middleware(SessionMiddleware, secret_key=os.environ["SECRET"])  # L009
        """,
    "starlette_session_middleware_http": """
        import os

        from starlette.middleware import Middleware
        from starlette.middleware.sessions import SessionMiddleware

        SECRET = os.environ["SECRET"]
        STACK = [Middleware(SessionMiddleware, secret_key=SECRET, https_only=False)]  # L009
        """,
}

SAFE = {
    "flags_set": """
        def login(response, sid):
            response.set_cookie("session", sid, secure=True, httponly=True, samesite="Lax")
        """,
    "flags_from_settings": """
        SECURE = True

        def login(response, sid, settings):
            response.set_cookie("session", sid, secure=SECURE, httponly=settings.HTTPONLY)
        """,
    "preference_cookie": """
        def theme(response):
            response.set_cookie("theme", "dark")
        """,
    "csrf_cookie_readable_by_scripts": """
        def csrf(response, value):
            response.set_cookie("csrftoken", value, secure=True, samesite="Strict")
        """,
    "lambda_header_with_flags": """
        def handler(event, context):
            return {"statusCode": 200,
                    "headers": {"Set-Cookie": "session=x; Secure; HttpOnly; SameSite=Lax"},
                    "body": "ok"}
        """,
    "starlette_session_middleware_https_only": """
        import os

        from starlette.applications import Starlette
        from starlette.middleware.sessions import SessionMiddleware

        app = Starlette()
        app.add_middleware(SessionMiddleware, secret_key=os.environ["SECRET"], https_only=True)
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_insecure_auth_cookies_are_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-614" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_protected_or_harmless_cookies_are_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
