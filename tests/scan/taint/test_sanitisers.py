"""Sanitisers and guards (``sanitisers.py``) clear only what they neutralise."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan


def test_each_sanitiser_clears_only_its_kind(scan: Scan) -> None:
    code = """
    import os, shlex, sqlite3, uuid
    def handler(event, context):
        v = event["v"]
        os.system("ls " + shlex.quote(v))
        sqlite3.connect("x").execute("SELECT '%s'" % shlex.quote(v))
        os.system("ls %d" % int(v))
        os.system("ls " + str(uuid.UUID(v)))
    """
    assert scan(code) == {("RP-T003", 5)}


def test_an_ip_address_is_not_a_sanitiser(scan: Scan) -> None:
    """An IPv6 scope id is free text: ip_address("fe80::1%;id") prints as it came."""
    code = """
    import ipaddress, os
    def handler(event, context):
        os.system("ping -c1 " + str(ipaddress.ip_address(event["ip"])))
    """
    assert scan(code) == {("RP-T002", 3)}


def test_re_sub_clears_only_what_the_kept_class_and_the_replacement_rule_out(
        scan: Scan) -> None:
    code = """
    import os, re
    def handler(event, context):
        v = event["v"]
        os.system("ls " + re.sub(r"[^a-z0-9]", "", v))
        os.system("ls " + re.sub(r"[^a-z0-9]", "_", v))
        os.system("ls " + re.sub(r"[^a-z0-9]", ";", v))
        os.system("ls " + re.sub(r"[^a-z0-9*]", "", v))
        os.system("ls " + re.sub(r"[^a-z0-9 ]", "", v))
        os.system("ls " + re.sub(r"[^a-z0-9]", r"\\g<0>", v))
        os.system("ls " + re.sub(r"[^a-z0-9]", v[0], v))
    """
    assert scan(code) == {("RP-T002", n) for n in (6, 7, 8, 9, 10)}


def test_url_quote_keeps_what_safe_names(scan: Scan) -> None:
    code = """
    import os
    from urllib.parse import quote
    def handler(event, context):
        v = event["v"]
        os.system("curl https://x.example/" + quote(v))
        os.system("curl https://x.example/" + quote(v, safe=":"))
        os.system("curl https://x.example/" + quote(v, safe=";&"))
        os.system("curl https://x.example/" + quote(v, event["safe"]))
    """
    assert scan(code) == {("RP-T002", 7), ("RP-T002", 8)}


def test_resolve_url_returns_what_does_not_reverse(scan: Scan) -> None:
    """Django's resolve_url("https://evil.example/") gives the URL back unchanged."""
    code = """
    from django.shortcuts import redirect, resolve_url
    from django.urls import reverse
    def login_done(request):
        if request.GET.get("home"):
            return redirect(reverse("home"))
        return redirect(resolve_url(request.GET["next"]))
    """
    assert scan(code) == {("RP-T011", 6)}


def test_path_containment_not_normalisation(scan: Scan) -> None:
    code = """
    import os
    from pathlib import Path
    BASE = Path("/srv/files").resolve()
    def handler(event, context):
        name = event["name"]
        open(os.path.realpath(os.path.join("/srv/files", name)))
        target = (BASE / name).resolve()
        if not target.is_relative_to(BASE):
            return {"statusCode": 404}
        open(target)
        real = os.path.realpath(os.path.join("/srv/files", name))
        if real.startswith("/srv/files/"):
            open(real)
        full = os.path.abspath(os.path.join("/srv/files", name))
        if os.path.commonpath([full, "/srv/files"]) != "/srv/files":
            raise ValueError(name)
        open(full)
        open("/srv/files/" + name.replace("/", "-"))
        open("/srv/files/" + os.path.basename(name))
    """
    assert scan(code) == {("RP-T005", 6)}


def test_allowlist_regex_and_abort_guards(scan: Scan) -> None:
    code = """
    import os, re
    from flask import Flask, abort, request
    app = Flask(__name__)
    ALLOWED = {"ls", "df"}
    @app.route("/")
    def index():
        cmd = request.args["cmd"]
        if cmd not in ALLOWED:
            abort(400)
        os.system(cmd)
        name = request.args["name"]
        if not re.fullmatch(r"[a-z]+", name):
            return "bad", 400
        os.system("echo " + name)
        other = request.args["other"]
        if other in ALLOWED:
            os.system(other)
        os.system(other)
        return "ok"
    """
    assert scan(code) == {("RP-T002", 18)}


def test_url_host_allowlist_clears_ssrf_and_redirect(scan: Scan) -> None:
    code = """
    from urllib.parse import urlparse
    import requests
    from flask import Flask, redirect, request
    app = Flask(__name__)
    HOSTS = {"api.example.com"}
    @app.route("/")
    def index():
        url = request.args["url"]
        if urlparse(url).netloc not in HOSTS:
            return "no", 400
        requests.get(url)
        nxt = request.args["next"]
        parsed = urlparse(nxt)
        if parsed.hostname in HOSTS:
            return redirect(nxt)
        requests.get(nxt)
        return "ok"
    """
    assert scan(code) == {("RP-T006", 16)}


def test_escapers_for_html_ldap_and_bleach(scan: Scan) -> None:
    code = """
    import bleach
    import markupsafe
    from django.http import HttpResponse
    from django.utils.html import escape
    def page(request):
        q = request.GET["q"]
        HttpResponse("<p>" + escape(q) + "</p>")
        HttpResponse(bleach.clean(q))
        HttpResponse(markupsafe.escape(q))
        return HttpResponse("<p>%s</p>" % q)
    """
    assert scan(code) == {("RP-T012", 10)}


def test_html_escape_does_not_clear_template_injection(scan: Scan) -> None:
    code = """
    import html
    import jinja2
    def handler(event, context):
        jinja2.Template(html.escape(event["body"]), autoescape=True)
    """
    assert scan(code) == {("RP-T007", 4)}


def test_guard_on_an_attribute_clears_it_for_the_rest_of_the_method(scan: Scan) -> None:
    code = """
    import os, re
    class Job:
        def __init__(self, value):
            self.value = value
        def run(self):
            if not re.fullmatch(r"[a-z]+", self.value):
                raise ValueError("bad")
            os.system("echo " + self.value)
        def unchecked(self):
            os.system("echo " + self.value)
    def handler(event, context):
        job = Job(event["v"])
        job.run()
        job.unchecked()
    """
    assert scan(code) == {("RP-T002", 10)}


def test_markup_format_escapes_its_arguments(scan: Scan) -> None:
    code = """
    from flask import Flask, make_response, request
    from markupsafe import Markup
    app = Flask(__name__)
    @app.route("/")
    def index():
        q = request.args["q"]
        make_response(Markup("<p>{}</p>").format(q))
        return make_response(Markup("<p>%s</p>" % q))
    """
    assert scan(code) == {("RP-T012", 8)}


def test_host_check_on_a_subscript(scan: Scan) -> None:
    code = """
    from urllib.parse import urlparse
    import requests
    HOSTS = {"hooks.example.com"}
    def handler(event, context):
        for sub in event["subs"]:
            parsed = urlparse(sub["url"])
            if parsed.scheme != "https" or parsed.hostname not in HOSTS:
                continue
            requests.post(sub["url"])
            requests.post(sub["other"])
    """
    assert scan(code) == {("RP-T006", 10)}


def test_type_check_on_a_lookup_and_a_local_path_helper(scan: Scan) -> None:
    code = """
    from pymongo import MongoClient
    from starlette.responses import RedirectResponse
    USERS = MongoClient()["app"]["users"]
    def local_path(target):
        if not target.startswith("/") or target.startswith("//"):
            return "/"
        return target
    async def login(request):
        creds = await request.json()
        if not isinstance(creds.get("user"), str):
            return None
        USERS.find_one({"user": creds["user"]})
        USERS.find_one({"user": creds["other"]})
        RedirectResponse(local_path(request.cookies.get("to", "/")))
        return RedirectResponse(request.cookies.get("to", "/"))
    """
    assert scan(code) == {("RP-T008", 13), ("RP-T011", 15)}


def test_safe_join_object_id_and_relative_redirects(scan: Scan) -> None:
    code = """
    from urllib.parse import urlparse
    from bson import ObjectId
    from flask import Flask, redirect, request, send_file
    from pymongo import MongoClient
    from werkzeug.utils import safe_join
    app = Flask(__name__)
    DB = MongoClient()["app"]
    @app.route("/")
    def index():
        send_file(safe_join("/srv/files", request.args["f"]))
        DB.users.find_one({"_id": ObjectId(request.args["id"])})
        nxt = request.args["next"]
        if urlparse(nxt).netloc:
            return redirect("/")
        return redirect(nxt)
    """
    assert scan(code) == set()


def test_a_verified_mac_clears_deserialisation_of_that_message(scan: Scan) -> None:
    code = """
    import base64, hashlib, hmac, os, pickle
    KEY = os.environ["KEY"].encode()
    def handler(event, context):
        blob = base64.b64decode(event["body"])
        other = base64.b64decode(event["other"])
        expected = hmac.new(KEY, blob, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, event["sig"]):
            return {"statusCode": 403}
        pickle.loads(blob)
        pickle.loads(other)
    """
    assert scan(code) == {("RP-T004", 10)}
