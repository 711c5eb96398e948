"""RP-L002: tracebacks and exception text returned to the caller."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "lambda_str_e": """
        import json

        def handler(event, context):
            try:
                return {"statusCode": 200, "body": do(event)}
            except Exception as e:
                return {"statusCode": 500, "body": json.dumps({"error": str(e)})}  # L002

        def do(event):
            return event["body"]
        """,
    "lambda_traceback": """
        import traceback

        def handler(event, context):
            try:
                return {"statusCode": 200, "body": event["x"]}
            except KeyError:
                return {"statusCode": 500, "body": traceback.format_exc()}  # L002
        """,
    "flask_fstring_via_local": """
        from flask import Flask, jsonify

        app = Flask(__name__)

        @app.route("/items")
        def items():
            try:
                return jsonify(load())
            except ValueError as exc:
                detail = f"could not load: {exc}"
                return jsonify({"error": detail}), 500  # L002

        def load():
            return []
        """,
    "percent_tuple": """
        def handler(event, context):
            try:
                return {"statusCode": 200, "body": event["x"]}
            except KeyError as e:
                return {"statusCode": 400, "body": "missing %s (%s)" % ("x", e)}  # L002
        """,
    "django_repr": """
        from django.http import JsonResponse

        def view(request):
            try:
                return JsonResponse({"ok": True})
            except Exception as err:
                return JsonResponse({"error": repr(err)}, status=500)  # L002
        """,
    "fastapi_http_exception": """
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        @app.get("/x")
        def read():
            try:
                return {"x": 1 / 0}
            except ZeroDivisionError as e:
                raise HTTPException(status_code=500, detail=e.args[0])  # L002
        """,
    "fastapi_exception_handler": """
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse

        app = FastAPI()

        @app.exception_handler(Exception)
        async def on_error(request, exc):
            return JSONResponse({"detail": f"failed: {exc}"}, status_code=500)  # L002
        """,
    "flask_registered_error_handler": """
        from flask import Flask

        app = Flask(__name__)

        def on_error(error):
            return {"error": repr(error)}, 500  # L002

        app.register_error_handler(Exception, on_error)
        """,
    "lambda_response_built_then_returned": """
        import json

        def handler(event, context):
            try:
                response = {"statusCode": 200, "body": json.dumps(work(event))}
            except ValueError as err:
                response = {"statusCode": 400, "body": json.dumps({"error": str(err)})}  # L002
            return response
        """,
}

SAFE = {
    "logged_and_generic": """
        import logging

        log = logging.getLogger(__name__)

        def handler(event, context):
            try:
                return {"statusCode": 200, "body": event["x"]}
            except Exception as e:
                log.exception("failed: %s", e)
                return {"statusCode": 500, "body": "internal error"}
        """,
    "error_type_only": """
        def handler(event, context):
            try:
                return {"statusCode": 200, "body": event["x"]}
            except Exception as e:
                return {"statusCode": 500, "body": type(e).__name__}
        """,
    "helper_formats_for_a_log": """
        def describe(exc):
            return f"{exc.__class__.__name__}: {exc}"

        def parse(text):
            try:
                return int(text)
            except ValueError as e:
                message = str(e)
                print(message)
                return None
        """,
    "exception_object_not_text": """
        from http.client import HTTPException

        def send(request, session):
            try:
                return (session.send(request), None)
            except OSError as e:
                return (None, e)
            except ValueError as e:
                raise HTTPException(str(e))
        """,
    "error_handler_with_fixed_text": """
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse

        app = FastAPI()

        @app.exception_handler(Exception)
        async def on_error(request, exc):
            return JSONResponse({"detail": "internal error", "kind": type(exc).__name__},
                                status_code=500)
        """,
    "lambda_response_fixed_text": """
        import json
        import logging

        def handler(event, context):
            try:
                response = {"statusCode": 200, "body": json.dumps(work(event))}
            except ValueError:
                logging.exception("work failed")
                response = {"statusCode": 400, "body": json.dumps({"error": "bad input"})}
            return response
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_exception_text_in_a_response_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-209" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_logged_or_generic_errors_are_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
