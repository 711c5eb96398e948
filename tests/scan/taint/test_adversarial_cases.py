"""Misses and false positives from the deploy-gate adversarial review (F2, F9, F20)."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

T005, T006, T012 = "RP-T005", "RP-T006", "RP-T012"


def test_module_level_http_session_is_an_ssrf_sink(scan: Scan) -> None:
    code = """
    import requests, httpx, aiohttp
    from flask import Flask, request
    app = Flask(__name__)
    s = requests.Session()
    c = httpx.Client()
    @app.route("/hook", methods=["POST"])
    def hook():
        s.post(request.get_json()["callback"], json={"ok": True}, timeout=3)
        c.get(request.args["u"])
        return "", 204
    """
    assert scan(code) == {(T006, 8), (T006, 9)}


def test_flask_typed_converters_make_the_argument_clean(scan: Scan) -> None:
    code = """
    from flask import Flask
    app = Flask(__name__)
    @app.route("/p/<int:pid>")
    def p(pid):
        return str(pid)
    @app.route("/u/<uuid:uid>/<name>")
    def u(uid, name):
        return str(uid) + name
    @app.route("/f/<float:x>")
    def f(x):
        return str(x)
    """
    assert scan(code) == {(T012, 8)}


def test_startswith_guard_without_trailing_separator_is_not_containment(scan: Scan) -> None:
    code = """
    import os
    BASE = "/srv/files"
    SAFE = "/srv/files/"
    def handler(event, context):
        name = event["name"]
        p = os.path.realpath(os.path.join(BASE, name))
        if not p.startswith(BASE):
            return {"statusCode": 403}
        open(p).read()
        q = os.path.realpath(os.path.join(SAFE, name))
        if not q.startswith(SAFE):
            return {"statusCode": 403}
        open(q).read()
        r = os.path.realpath(os.path.join(BASE, name))
        if not r.startswith(BASE + os.sep):
            return {"statusCode": 403}
        return open(r).read()
    """
    assert scan(code) == {(T005, 9)}
