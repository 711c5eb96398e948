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


def test_raw_sql_expressions_and_pickle_loaders_and_s3_local_paths_are_sinks(scan: Scan) -> None:
    code = """
    import io, base64, os, boto3, numpy
    from django.db.models.expressions import RawSQL
    from .models import Item
    s3 = boto3.client("s3")
    def handler(event, context):
        q = event["queryStringParameters"]
        Item.objects.annotate(v=RawSQL("SELECT %s" % q["col"], []))
        numpy.load(io.BytesIO(base64.b64decode(event["body"])), allow_pickle=True)
        numpy.load(io.BytesIO(base64.b64decode(event["body"])))
        s3.download_file("bucket", q["key"], "/tmp/" + q["key"])
        s3.download_file("bucket", q["key"], "/tmp/fixed")
        list(map(os.system, ["ping -c1 " + h for h in q["hosts"]]))
    """
    assert scan(code) == {("RP-T003", 7), ("RP-T004", 8), (T005, 10), ("RP-T002", 12)}


def test_base_url_from_operator_configuration_is_not_ssrf(scan: Scan) -> None:
    code = """
    import os, requests
    API = os.environ["API_BASE"]
    OTHER = os.getenv("OTHER_BASE", "https://x.example")
    def handler(event, context):
        uid = event["pathParameters"]["id"]
        requests.get(f"{API}/users/{uid}", timeout=5)
        requests.get(OTHER + "/users/" + uid, timeout=5)
        requests.get(f"{API}{uid}", timeout=5)
        requests.get(f"{uid}/users", timeout=5)
    """
    assert scan(code) == {(T006, 8), (T006, 9)}


def test_module_level_aiohttp_session_is_an_ssrf_sink(scan: Scan) -> None:
    code = """
    import aiohttp
    from aiohttp import web
    http = aiohttp.ClientSession()
    pool = aiohttp.ClientSession()
    async def fetch(request):
        await pool.get(request.query["u"])
        return web.Response(text="ok")
    """
    assert scan(code) == {(T006, 6)}


def test_a_literal_base_url_constant_fixes_the_host(scan: Scan) -> None:
    """Second review FP1: ``API = "https://api.example.com"`` then ``f"{API}/v2?q={q}"``."""
    code = """
    import os
    from urllib.parse import urljoin
    import requests
    API = "https://api.example.com"
    API_V2 = "https://api.example.com/v2/"
    USER_AT = "https://user@"
    def handler(event, context):
        q = event["q"]
        requests.get(f"{API}/v2?q={q}", timeout=5)
        requests.get(API + "/v2?q=" + q, timeout=5)
        requests.get(f"{API}/items/{q}", timeout=5)
        requests.get(API_V2 + q, timeout=5)
        requests.get(f"{API}{q}", timeout=5)
        requests.get(f"{q}/x", timeout=5)
        requests.get(f"https://{q}", timeout=5)
        requests.get(urljoin(API, q), timeout=5)
        requests.get(USER_AT + q + "/x", timeout=5)
        API_LOCAL = q
        return requests.get(f"{API_LOCAL}/v2", timeout=5).text
    """
    assert scan(code) == {(T006, 13), (T006, 14), (T006, 15), (T006, 16), (T006, 17), (T006, 19)}
