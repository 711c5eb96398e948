"""Indirection that hid request data -> sink flows (issue 16, second review F2/F6)."""

from __future__ import annotations

import pytest

from tests.scan.taint.conftest import Scan, scan_files

T001, T002, T004, T005, T006 = "RP-T001", "RP-T002", "RP-T004", "RP-T005", "RP-T006"


def test_an_aliased_handler_is_an_entry_point(scan: Scan) -> None:
    code = """
    def _impl(req, ctx):
        return {"statusCode": 200, "body": open(req["body"]).read()}

    handler = _impl
    """
    assert scan(code, {"app.py": {"handler"}}) == {(T005, 2)}


def test_a_handler_wrapped_by_hand_is_an_entry_point(scan: Scan) -> None:
    code = """
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*a):
            return fn(*a)
        return inner

    def _impl(req, ctx):
        return {"statusCode": 200, "body": open(req["body"]).read()}

    main = wrap(_impl)
    """
    assert scan(code, {"app.py": {"main"}}) == {(T005, 10)}


def test_classmethods_and_staticmethods_called_on_the_class(scan: Scan) -> None:
    code = """
    import json, yaml

    class Storage:
        root = "/var/task/docs/"

        @classmethod
        def read(cls, name):
            with open(cls.root + name) as f:
                return f.read()

        @staticmethod
        def parse(text):
            return yaml.load(text, Loader=yaml.Loader)

    def handler(event, context):
        body = json.loads(event["body"])
        Storage.parse(body["cfg"])
        return {"statusCode": 200, "body": Storage.read(body["name"])}
    """
    assert scan(code) == {(T005, 8), (T004, 13)}


def test_sinks_passed_as_values(scan: Scan) -> None:
    code = """
    import os, pickle, urllib.request

    def apply(fn, arg):
        return fn(arg)

    def fetch(url):
        return urllib.request.urlopen(url, timeout=3).read()

    OPS = {"run": os.system, "load": pickle.loads}

    def handler(event, context):
        x = event["body"]
        apply(os.system, x)
        sorted([x], key=os.system)
        apply(fetch, event["url"])
        OPS[event["op"]](x)
        f = eval
        f(x)
        getattr(os, "system")(x)
        m = __import__("o" + "s")
        m.popen(x)
        return {"statusCode": 200}
    """
    assert scan(code) == {
        (T002, 13),
        (T002, 14),
        (T006, 7),
        (T002, 16),
        (T004, 16),
        (T001, 18),
        (T002, 19),
        (T002, 21),
    }


def test_constant_functions_passed_as_values_are_not_reported(scan: Scan) -> None:
    code = """
    import os

    def apply(fn, arg):
        return fn(arg)

    def handler(event, context):
        apply(os.system, "uptime")
        f = eval
        f("1 + 1")
        sorted([event["a"]], key=len)
        return {"statusCode": 200}
    """
    assert scan(code) == set()


def test_exec_spawn_and_argument_lists_that_run_input(scan: Scan) -> None:
    code = """
    import os, pty, subprocess

    def handler(event, context):
        x = event["body"]
        os.execv("/bin/sh", ["sh", "-c", x])
        os.spawnlp(os.P_WAIT, "sh", "sh", "-c", x)
        os.posix_spawn("/bin/sh", ["sh", "-c", x], {})
        pty.spawn(["sh", "-c", x])
        os.execl("/bin/bash", "bash", "-c", x)
        subprocess.run(["python3", "-c", x])
        subprocess.check_call(["env", x])
        subprocess.run(["find", "/", "-exec", x, ";"])
        subprocess.run(["ls", "-l", x])
        os.execv("/bin/ls", ["ls", x])
        return {"statusCode": 200}
    """
    assert scan(code) == {(T002, n) for n in range(5, 13)}


def test_more_code_path_and_url_sinks(scan: Scan) -> None:
    code = """
    import code, io, runpy, shutil, timeit, urllib.request

    def handler(event, context):
        x = event["body"]
        code.InteractiveInterpreter().runsource(x)
        runpy.run_path(x)
        timeit.timeit(x, number=1)
        shutil.unpack_archive(x, "/tmp/out")
        io.FileIO(x).read()
        opener = urllib.request.build_opener()
        return opener.open(event["url"]).read()
    """
    assert scan(code) == {(T001, 5), (T001, 6), (T001, 7), (T005, 8), (T005, 9), (T006, 11)}


def test_html_headers_built_by_a_helper_a_copy_a_spread_or_set_later(scan: Scan) -> None:
    code = """
    import html

    HTML = {"Content-Type": "text/html"}
    JSON = {"Content-Type": "application/json"}

    def html_headers():
        return {"Content-Type": "text/html; charset=utf-8"}

    def handler(event, context):
        name = event["queryStringParameters"]["name"]
        op = event["queryStringParameters"]["op"]
        if op == "a":
            return {"statusCode": 200, "headers": html_headers(), "body": f"<h1>{name}</h1>"}
        if op == "b":
            h = dict(HTML)
            return {"statusCode": 200, "headers": h, "body": "<h1>" + name + "</h1>"}
        if op == "c":
            resp = {"statusCode": 200, "body": f"<p>{name}</p>"}
            resp["headers"] = {"Content-Type": "text/html"}
            return resp
        if op == "d":
            return {"statusCode": 200, "headers": {**HTML, "X-A": "1"}, "body": f"<p>{name}</p>"}
        if op == "e":
            return {"statusCode": 200, "headers": {**JSON}, "body": name}
        if op == "f":
            return {"statusCode": 200, "headers": dict(JSON), "body": name}
        return {"statusCode": 200, "headers": html_headers(), "body": html.escape(name)}
    """
    assert scan(code) == {("RP-T012", 13), ("RP-T012", 16), ("RP-T012", 19), ("RP-T012", 22)}


def test_keyword_arguments_passed_through_to_a_sink(scan: Scan) -> None:
    code = """
    import subprocess

    def run(**kw):
        return subprocess.run(**kw)

    def read(**kw):
        return open(**kw).read()

    def handler(event, context):
        run(args=event["body"], shell=True)
        read(file=event["name"])
        run(args=["uptime"])
        return {"statusCode": 200}
    """
    assert scan(code) == {(T002, 4), (T005, 7)}


def test_operator_methodcaller_calls_the_named_method(scan: Scan) -> None:
    code = """
    import operator, os

    def handler(event, context):
        operator.methodcaller("system", event["body"])(os)
        operator.methodcaller("system", "uptime")(os)
        return {"statusCode": 200}
    """
    assert scan(code) == {(T002, 4)}



_READ = "def _read(p):\n    with open(p) as f:\n        return f.read()\n"


@pytest.mark.parametrize("code", [
    _READ + """
import os
if os.environ.get("X"):
    def handler(event, context):
        return _read(event["body"])
else:
    def handler(event, context):
        return "no"
""",
    _READ + """
try:
    import ujson as json
except ImportError:
    import json
    def handler(event, context):
        return _read(json.loads(event["body"])["p"])
""",
    _READ + """
class Api:
    @staticmethod
    def process(event, context):
        return _read(event["body"])
handler = Api.process
""",
], ids=["if-else", "except-importerror", "staticmethod-alias"])
def test_handlers_defined_under_if_or_try_or_bound_to_a_staticmethod(
        scan: Scan, code: str) -> None:
    """adv-gate3 F8: every arm's definition is analysed; ``handler = Cls.static`` is the entry."""
    assert ("RP-T005", 2) in scan(code, {"app.py": {"handler"}})


def test_a_spread_dict_into_an_app_function_fills_its_parameters(scan: Scan) -> None:
    """adv-gate3 F8: ``_read(**{"p": x})`` binds ``p``; a spread of literals stays clean."""
    code = _READ + """
def handler(event, context):
    _read(**{"p": "/srv/static/index.html"})
    return _read(**{"p": event["body"]})
"""
    assert scan(code, {"app.py": {"handler"}}) == {("RP-T005", 2)}


@pytest.mark.parametrize("files", [
    {"helpers.py": _READ, "app.py": "from helpers import *\n"
     "def handler(event, context):\n    return readf(event['body'])\n"},
    {"pkg/__init__.py": "from .impl import *\n", "pkg/impl.py": _READ,
     "app.py": "from pkg import readf\n"
     "def handler(event, context):\n    return readf(event['body'])\n"},
], ids=["star-import", "package-star-reexport"])
def test_star_imports_and_package_re_exports_are_followed(
        tmp_path, files: dict[str, str]) -> None:
    """adv-gate3 F2: a function reached through ``import *`` is the app's own function."""
    files = {k: v.replace("def _read(", "def readf(") for k, v in files.items()}
    found = scan_files(tmp_path, files, {"app.py": {"handler"}})
    assert [f.rule_id for f in found] == ["RP-T005"], found


def test_what_a_generator_yields_reaches_its_caller(scan: Scan) -> None:
    """adv-gate3 F2: iterating an app generator gives what it yields."""
    code = """
def parts(e):
    yield "static/index.html"
    yield e["body"]
def fixed(e):
    yield "static/index.html"
def handler(event, context):
    for q in fixed(event):
        open(q)
    for p in parts(event):
        with open(p) as f:
            return f.read()
"""
    assert scan(code, {"app.py": {"handler"}}) == {("RP-T005", 10)}


def test_a_property_getter_runs_when_its_attribute_is_read(scan: Scan) -> None:
    """adv-gate3 F2: ``Req(event).path`` is what the ``path`` property returns."""
    code = """
class Req:
    def __init__(self, e):
        self._e = e
    @property
    def path(self):
        return self._e["body"]
    @property
    def fixed(self):
        return "static/index.html"
def handler(event, context):
    open(Req(event).fixed)
    with open(Req(event).path) as f:
        return f.read()
"""
    assert scan(code, {"app.py": {"handler"}}) == {("RP-T005", 12)}
