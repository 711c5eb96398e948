"""Flow through one function and across the app (``engine.py``, ``calls.py``, ``analysis.py``)."""

from __future__ import annotations

from pathlib import Path

from tests.scan.taint.conftest import Scan, scan_files


def test_containers_and_string_building(scan: Scan) -> None:
    code = """
    import os
    def handler(event, context):
        v = event["v"]
        parts = ["ls"]
        parts.append(v)
        os.system(" ".join(parts))
        more = []
        more.extend([v])
        os.system(more[0])
        opts = {}
        opts.update({"x": v})
        os.system(opts["x"])
        d = {}
        d.setdefault("k", v)
        os.system("%s" % d["k"])
        os.system("{}".format(v))
        os.system("".join(x for x in [v]))
        os.system(f"{ {k: v for k in 'ab'}['a'] }")
        items = []
        items.insert(0, v)
        os.system(items[0] + "x")
    """
    assert scan(code) == {("RP-T002", n) for n in (6, 9, 12, 15, 16, 17, 18, 21)}


def test_loops_and_constant_reassignment(scan: Scan) -> None:
    code = """
    import os
    def handler(event, context):
        acc = ""
        for record in event["Records"]:
            acc += record["body"]
        os.system(acc)
        v = event["v"]
        v = "fixed"
        os.system(v)
        while True:
            w = event["w"]
            break
        os.system(w)
    """
    assert scan(code) == {("RP-T002", 6), ("RP-T002", 13)}


def test_returns_and_helpers_across_modules(tmp_path: Path) -> None:
    files = {
        "app.py": """
        from lib.store import Store, build
        def handler(event, context):
            q = build(event["id"])
            Store().run(q)
            s = Store()
            s.remember(event["name"])
            s.flush()
        """,
        "lib/__init__.py": "",
        "lib/store.py": """
        import sqlite3
        def build(ident):
            return "SELECT * FROM t WHERE id = " + ident
        class Store:
            def __init__(self):
                self.db = sqlite3.connect("x")
                self.pending = ""
            def run(self, sql):
                return self.db.execute(sql)
            def remember(self, name):
                self.pending = "DELETE FROM t WHERE name = '" + name + "'"
            def flush(self):
                self.db.execute(self.pending)
        """,
    }
    found = scan_files(tmp_path, files)
    assert {(f.rule_id, f.path, f.line) for f in found} == {
        ("RP-T003", "lib/store.py", 9), ("RP-T003", "lib/store.py", 13)}
    via = next(f for f in found if f.line == 9).message
    assert "app.py:4 -> lib/store.py:run" in via


def test_clean_arguments_into_helpers_stay_clean(scan: Scan) -> None:
    code = """
    import os
    def run(cmd):
        os.system(cmd)
    def handler(event, context):
        run("ls -l")
        run(event["cmd"])
    """
    assert scan(code) == {("RP-T002", 3)}


def test_recursion_and_unmodelled_syntax_do_not_crash(scan: Scan) -> None:
    code = """
    import os
    def walk(v, n):
        if n:
            return walk(v, n - 1)
        return v
    def handler(event, context):
        match event:
            case {"cmd": cmd}:
                os.system(walk(cmd, 3))
        f = lambda x: x
        async def inner():
            yield event
        class Local:
            pass
        g = [*event, *{**event}]
        os.system(g[0] if (h := event) else h)
        del g
    """
    assert scan(code) == {("RP-T002", 9), ("RP-T002", 16)}


def test_instances_held_globally_in_class_attributes_and_fields(tmp_path: Path) -> None:
    files = {
        "app.py": """
        import os
        from engine import Engine, Runner
        from flask import Flask, request
        app = Flask(__name__)
        ENGINE = Engine()
        class View:
            runner = Runner()
            def __init__(self):
                self.engine = Engine()
            def go(self, v):
                self.runner.run(v)
                self.engine.run(v)
        @app.route("/")
        def index():
            ENGINE.run(request.args["a"])
            View().go(request.args["b"])
            return "ok"
        """,
        "engine.py": """
        import os
        class Engine:
            def run(self, v):
                os.system(v)
        class Runner:
            def run(self, v):
                eval(v)
        """,
    }
    found = {(f.rule_id, f.path, f.line) for f in scan_files(tmp_path, files)}
    assert found == {("RP-T002", "engine.py", 4), ("RP-T001", "engine.py", 7)}


def test_argument_lists_built_by_a_helper(scan: Scan) -> None:
    code = """
    import subprocess
    def build_args(job):
        args = ["ffmpeg", "-i", job["source"]]
        args.append(job["out"])
        return args
    def build_cmd(job):
        return [job["tool"], "-v"]
    def handler(event, context):
        subprocess.run(build_args(event))
        args = build_args(event)
        subprocess.run(args)
        cmd = build_cmd(event)
        subprocess.run(cmd)
    """
    assert scan(code) == {("RP-T002", 13)}


def test_generic_search_methods_are_not_ldap(scan: Scan) -> None:
    code = """
    import re
    class Repo:
        def search(self, status, sort):
            return [status, sort]
    def handler(event, context):
        Repo().search(event["a"], event["b"])
        re.compile("x").search(event["c"])
    """
    assert scan(code) == set()


def test_long_concatenations_do_not_exhaust_the_stack(tmp_path: Path) -> None:
    terms = " + ".join(['event["a"]'] * 1500)
    code = f"import os\ndef handler(event, context):\n    x = {terms}\n    os.system(x)\n"
    (tmp_path / "app.py").write_text(code)
    from ramparts.scan import taint
    from ramparts.scan.source import load_tree

    assert [(f.rule_id, f.line) for f in taint.run(load_tree(tmp_path))] == [("RP-T002", 4)]


def test_query_results_are_stored_data_not_the_request(scan: Scan) -> None:
    code = """
    import sqlite3
    from django.http import HttpResponse
    from django.shortcuts import get_object_or_404
    from shop.models import Item
    def show(request, pk):
        item = get_object_or_404(Item, pk=pk)
        HttpResponse(item.name)
        other = Item.objects.filter(name=request.GET["q"]).first()
        HttpResponse(other.name)
        row = sqlite3.connect("x").execute("SELECT name FROM t WHERE id = ?", (pk,)).fetchone()
        HttpResponse(row[0])
        return HttpResponse(request.GET["q"])
    """
    assert scan(code) == {("RP-T012", 12)}


def test_try_handlers_else_and_except_names(scan: Scan) -> None:
    """adv-gate4 B1/B1b/B2: a handler starts from any point of the ``try`` body, ``else``
    from its end, and ``except E as name`` binds what the body held."""
    code = """
    import ipaddress, subprocess
    def handler(event, context):
        host = "localhost"
        try:
            host = event["host"]
            ipaddress.ip_address(host)
        except ValueError:
            subprocess.check_output(f"host {host}", shell=True)
        other = "localhost"
        try:
            other = event["other"]
        except KeyError:
            return 400
        else:
            subprocess.check_output(f"ping -c 1 {other}", shell=True)
        error = "none"
        try:
            float(event["ratio"])
        except ValueError as error:
            subprocess.run(f"logger bad ratio: {error}", shell=True)
        fixed = "localhost"
        try:
            fixed = "127.0.0.1"
        except ValueError:
            subprocess.run(f"host {fixed}", shell=True)
        return 200
    """
    assert scan(code) == {("RP-T002", 8), ("RP-T002", 15), ("RP-T002", 20)}


def test_comprehension_side_effects_stay(scan: Scan) -> None:
    """adv-gate4 B22: appends and walrus bindings inside a comprehension outlive it."""
    code = """
    import os
    def handler(event, context):
        argv = ["ls", "-l"]
        [argv.append(name) for name in event["files"]]
        os.system(" ".join(argv))
        line = "ls -l"
        [line := line + " " + name for name in event["files"]]
        os.system(line)
        name = "fixed"
        _ = [name for name in event["files"]]
        os.system(name)
    """
    assert scan(code) == {("RP-T002", 5), ("RP-T002", 8)}


def test_loops_match_and_with_keep_every_path(scan: Scan) -> None:
    """adv-gate4 B26/B27/B11/B33/B35: zero passes, ``continue``, values two passes away,
    a ``match`` no case of which matched, and a ``with`` that may swallow a raise."""
    code = """
    import contextlib, os
    def handler(event, context):
        level = event.get("level", "info")
        for _flag in event.get("verbose", []):
            level = "debug"
        os.system(f"report --level {level}")
        port = "80"
        for port in event["ports"]:
            if not port.isdigit():
                continue
        os.system(f"nc -z localhost {port}")
        older = previous = "true"
        for step in event["steps"]:
            os.system(older)
            older = previous
            previous = step
        cmd = event.get("cmd", "report")
        match event.get("preset"):
            case "full":
                cmd = "report --full"
            case "short":
                cmd = "report --short"
        os.system(cmd)
        n = event["n"]
        with contextlib.suppress(ValueError):
            if not n.isdigit():
                raise ValueError(n)
        os.system("seq " + n)
        fixed = event["f"]
        match fixed:
            case "a":
                fixed = "x"
            case _:
                fixed = "y"
        os.system(fixed)
        with open("/tmp/x") as fh:
            if not n.isdigit():
                raise ValueError(n)
            os.system("seq " + n + fh.name)
    """
    assert scan(code) == {("RP-T002", n) for n in (6, 11, 14, 23, 28)}


def test_guards_and_sanitisers_that_check_less_than_they_seem(scan: Scan) -> None:
    """adv-gate4 B8 (pos/endpos), B12 (a local pattern shadows the module's), B13 (``in``
    a str is a substring test), B31 (re.sub count), B32 (get with another default),
    B15 (the app's own ``abort`` returns): RP-T002 still fires."""
    code = """
    import os, re
    NAME = re.compile(r"[a-z0-9]+")
    def abort(status):
        return {"statusCode": status}
    def handler(event, context):
        a = event["a"]
        if not NAME.fullmatch(a, 0, 32):
            return 400
        os.system("echo " + a)
        NAME2 = re.compile(r"[^/]+")
        b = event["b"]
        if not NAME2.fullmatch(b) or not NAME.fullmatch(b):
            pass
        fmt = event["fmt"]
        if fmt not in "json|yaml|csv":
            return 400
        os.system("export --format " + fmt)
        os.system("echo " + re.sub(r"[^a-z0-9]", "", event["x"], re.I))
        q = event["q"]
        if not q.get("lines", "10").isdigit():
            return 400
        os.system("tail -n " + q.get("lines", q.get("default", "10")))
        n = event["n"]
        if not n.isdigit():
            abort(400)
        os.system("seq " + n)
        os.system("echo " + re.sub(r"[^a-z0-9]", "", event["x"]))
    """
    assert scan(code) == {("RP-T002", n) for n in (9, 17, 18, 22, 26)}


def test_a_module_pattern_shadowed_by_a_local_proves_nothing(scan: Scan) -> None:
    code = """
    import os, re
    SAFE = re.compile(r"[a-z0-9]+")
    def handler(event, context):
        SAFE = re.compile(r"[^/]+")
        name = event["name"]
        if not SAFE.fullmatch(name):
            return 400
        os.system("wc -l /srv/data/" + name)
    """
    assert scan(code) == {("RP-T002", 8)}


def test_in_place_changes_forget_what_guards_knew(scan: Scan) -> None:
    """adv-gate4 B9: a fact on ``params["lines"]`` does not survive ``params.update()``."""
    code = """
    import json, os
    def handler(event, context):
        params = dict(event["qs"])
        if not params.get("lines", "10").isdigit():
            return 400
        os.system("tail -n " + params["lines"])
        params.update(json.loads(event["body"]))
        os.system("tail -n " + params["lines"])
    """
    assert scan(code) == {("RP-T002", 8)}


def test_a_branch_that_forgets_a_path_fact_forgets_it_after_the_join(scan: Scan) -> None:
    """adv-gate4 B9 (setattr_override): ``d.update()`` in one arm or loop pass drops the
    guard's fact on ``d["n"]`` for the code after it, not only inside that arm."""
    code = """
    import json, os
    def handler(event, context):
        d = dict(event["qs"])
        if not d.get("n", "1").isdigit():
            return 400
        for extra in event.get("more", []):
            d.update(json.loads(extra))
        os.system("seq " + d["n"])
    """
    assert scan(code) == {("RP-T002", 8)}
