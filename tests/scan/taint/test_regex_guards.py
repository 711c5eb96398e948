"""Regex guards clear only what their pattern excludes (issue 16, second review F5/F8)."""

from __future__ import annotations

import pytest

from ramparts.scan.taint.regex_guard import cleared
from tests.scan.taint.conftest import Scan

T002, T003, T005 = "RP-T002", "RP-T003", "RP-T005"


def test_permissive_patterns_are_not_guards(scan: Scan) -> None:
    code = """
    import os, re, sqlite3
    PATHRE = re.compile(r"[\\w./-]+")
    def handler(event, context):
        name = event["name"]
        if not PATHRE.fullmatch(name):
            return {"statusCode": 400}
        q = event["q"]
        if not re.fullmatch(r"[^\\n]+", q):
            return {"statusCode": 400}
        sqlite3.connect(":memory:").execute("SELECT * FROM t WHERE a = '" + q + "'")
        cmd = event["cmd"]
        if not re.fullmatch(r".*", cmd):
            return {"statusCode": 400}
        os.system("ls " + cmd)
        return {"statusCode": 200, "body": open("/var/task/files/" + name).read()}
    """
    assert scan(code) == {(T003, 10), (T002, 14), (T005, 15)}


def test_strict_patterns_still_clear_their_kinds(scan: Scan) -> None:
    code = """
    import os, re, sqlite3
    SLUG = re.compile(r"[a-z0-9_]{1,40}")
    def handler(event, context):
        name = event["name"]
        if not SLUG.fullmatch(name):
            return {"statusCode": 400}
        q = event["q"]
        if not re.match(r"^[A-Za-z0-9]+\\Z", q):
            return {"statusCode": 400}
        sqlite3.connect(":memory:").execute("SELECT * FROM t WHERE a = '" + q + "'")
        os.system("ls " + name)
        return {"statusCode": 200, "body": open("/var/task/files/" + name).read()}
    """
    assert scan(code) == set()


def test_a_dotted_name_pattern_allows_dot_dot_so_paths_stay_tainted(scan: Scan) -> None:
    code = """
    import os, re
    def handler(event, context):
        name = event["name"]
        if not re.fullmatch(r"[\\w.]+", name):
            return {"statusCode": 400}
        os.system("cat " + name)
        return {"statusCode": 200, "body": open(os.path.join("/srv", name, "x")).read()}
    """
    assert scan(code) == {(T005, 7)}


def test_unanchored_match_and_unknown_patterns_are_not_guards(scan: Scan) -> None:
    code = """
    import re
    def handler(event, context, pattern=None):
        a = event["a"]
        if not re.match(r"[a-z]+", a):
            return {"statusCode": 400}
        open("/srv/" + a)
        b = event["b"]
        if not re.fullmatch(pattern, b):
            return {"statusCode": 400}
        open("/srv/" + b)
        c = event["c"]
        if not re.match(r"^[a-z]+$", c, re.M):
            return {"statusCode": 400}
        return open("/srv/" + c).read()
    """
    assert scan(code) == {(T005, 6), (T005, 10), (T005, 14)}


def test_a_store_after_the_guard_drops_it(scan: Scan) -> None:
    code = """
    import re
    ALLOWED = {"a.txt", "b.txt"}
    def handler(event, context):
        if event["name"] not in ALLOWED:
            return {"statusCode": 400}
        event["name"] = event["other"]
        open("/srv/" + event["name"])
        key = event["key"]
        if not re.fullmatch(r"[a-z]+", key):
            return {"statusCode": 400}
        key = event["raw"]
        return open("/srv/" + key).read()
    """
    assert scan(code) == {(T005, 7), (T005, 12)}


def test_a_guard_on_a_constant_key_without_a_store_still_holds(scan: Scan) -> None:
    code = """
    ALLOWED = {"a.txt", "b.txt"}
    def handler(event, context):
        if event["name"] not in ALLOWED:
            return {"statusCode": 400}
        return open("/srv/" + event["name"]).read()
    """
    assert scan(code) == set()


@pytest.mark.parametrize(
    ("pattern", "how", "path", "sql", "command"),
    [
        (r"[\w./-]+", "fullmatch", False, False, True),
        (r"[^\n]+", "fullmatch", False, False, False),
        (r"[a-z]+", "fullmatch", True, True, True),
        (r"[\w-]+\.pdf", "fullmatch", True, False, True),
        (r"\w+(\.\w+)*", "fullmatch", True, True, True),
        (r"[\w.]+", "fullmatch", False, True, True),
        (r"^[a-z]+$", "match", True, False, False),  # "$" admits a final newline
        (r"^[a-z]+\Z", "search", True, True, True),
        (r"[a-z]+\Z", "search", False, False, False),
        (r"(a)\1", "fullmatch", False, False, False),
        (r"[", "fullmatch", False, False, False),
    ],
)
def test_pattern_analysis(pattern: str, how: str, path: bool, sql: bool, command: bool) -> None:
    kinds = cleared(pattern, 0, how)
    assert ("path" in kinds, "sql" in kinds, "command" in kinds) == (path, sql, command)
    assert "ssrf" not in kinds and "redirect" not in kinds
