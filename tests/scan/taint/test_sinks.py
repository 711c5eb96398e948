"""Sinks per category (``sinks.py``): each vulnerable call next to its safe form."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

HEAD = """
import logging, os, subprocess, sqlite3, pickle, yaml
import lxml.etree
import ldap3
import ldap
import requests
import sqlalchemy
import xml.sax
from xml.dom import minidom
import defusedxml.ElementTree
from ldap3.utils.conv import escape_filter_chars
from pymongo import MongoClient
log = logging.getLogger(__name__)
db = MongoClient()["app"]
def handler(event, context):
    v = event["body"]
"""
N = HEAD.count("\n")  # the first line of the body below is line N


def _at(scan: Scan, body: str) -> set[tuple[str, int]]:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return scan(HEAD + lines + "\n")


def test_command_and_code(scan: Scan) -> None:
    body = """
subprocess.run(v, shell=True)
subprocess.run(["ls", v])
subprocess.run(["sh", "-c", v])
subprocess.run([v, "-l"])
eval(v)
"""
    assert _at(scan, body) == {("RP-T002", N), ("RP-T002", N + 2), ("RP-T002", N + 3),
                               ("RP-T001", N + 4)}


def test_sql_formatting_is_flagged_parameter_binding_is_not(scan: Scan) -> None:
    body = """
cur = sqlite3.connect("x").cursor()
cur.execute("SELECT * FROM t WHERE id = '%s'" % v)
cur.execute("SELECT * FROM t WHERE id = ?", (v,))
sqlalchemy.text(f"SELECT * FROM t WHERE id = {v}")
sqlalchemy.text("SELECT * FROM t WHERE id = :id").bindparams(id=v)
"""
    assert _at(scan, body) == {("RP-T003", N + 1), ("RP-T003", N + 3)}


def test_nosql_where_and_filters_from_input(scan: Scan) -> None:
    body = """
db.users.find({"$where": "this.name == '" + v + "'"})
db.users.find_one(v)
db.users.find({"name": str(v)})
v.find("x")
"""
    assert _at(scan, body) == {("RP-T008", N), ("RP-T008", N + 1)}


def test_xpath_formatting_vs_variables(scan: Scan) -> None:
    body = """
tree = lxml.etree.parse("users.xml")
tree.xpath(f"//user[@name='{v}']")
tree.xpath("//user[@name=$name]", name=v)
"""
    assert _at(scan, body) == {("RP-T009", N + 1)}


def test_ldap_filters_escaped_or_not(scan: Scan) -> None:
    body = """
conn = ldap3.Connection("ldap://x")
conn.search("dc=x", f"(uid={v})")
conn.search("dc=x", f"(uid={escape_filter_chars(v)})")
l = ldap.initialize("ldap://x")
l.search_s("dc=x", ldap.SCOPE_SUBTREE, "(uid=" + v + ")")
"""
    assert _at(scan, body) == {("RP-T010", N + 1), ("RP-T010", N + 4)}


def test_xxe_parsers(scan: Scan) -> None:
    body = """
lxml.etree.fromstring(v, lxml.etree.XMLParser(resolve_entities=True))
lxml.etree.fromstring(v, lxml.etree.XMLParser(resolve_entities=False))
lxml.etree.fromstring(v)
xml.sax.parseString(v, None)
minidom.parseString(v)
defusedxml.ElementTree.fromstring(v)
"""
    assert _at(scan, body) == {("RP-T013", N + k) for k in (0, 2, 3, 4)}


def test_log_injection_is_medium_and_neutralised_by_repr_or_replace(scan: Scan) -> None:
    body = """
log.info("user %s", v)
log.info(f"user {v}")
log.info("user %r", v)
log.info("user %s", v.replace("\\n", " ").replace("\\r", " "))
logging.warning("user " + v)
"""
    assert _at(scan, body) == {("RP-T014", N), ("RP-T014", N + 1), ("RP-T014", N + 4)}


def test_deserialisation_and_safe_loaders(scan: Scan) -> None:
    body = """
pickle.loads(v)
yaml.load(v, Loader=yaml.Loader)
yaml.load(v, Loader=yaml.SafeLoader)
yaml.safe_load(v)
"""
    assert _at(scan, body) == {("RP-T004", N), ("RP-T004", N + 1)}


def test_ssrf_fixed_origin_is_not_a_target(scan: Scan) -> None:
    body = """
requests.get(v)
requests.get(f"https://api.example.com/items/{v}")
"""
    assert _at(scan, body) == {("RP-T006", N)}


def test_findings_carry_rule_cwe_and_calibrated_severity(scan: Scan, tmp_path) -> None:
    from ramparts.scan.findings import Severity
    from tests.scan.taint.conftest import scan_files

    code = """
    import logging, os
    from flask import Flask, request, session
    app = Flask(__name__)
    @app.route("/")
    def index():
        logging.info(request.args["u"])
        session["user"] = request.args["u"]
        os.system(request.args["u"])
        return "ok"
    """
    found = {f.rule_id: f for f in scan_files(tmp_path, {"app.py": code})}
    assert {k: (f.cwe, f.severity) for k, f in found.items()} == {
        "RP-T014": ("CWE-117", Severity.MEDIUM), "RP-T015": ("CWE-501", Severity.MEDIUM),
        "RP-T002": ("CWE-78", Severity.HIGH)}


def test_more_sink_shapes(scan: Scan) -> None:
    code = """
    import os
    import urllib.request
    import xml.etree.ElementTree as ET
    from flask import Flask, request
    from jinja2 import Environment
    from jinja2.sandbox import SandboxedEnvironment
    from lxml import etree
    app = Flask(__name__)
    CATALOGUE = ET.parse("/var/task/catalogue.xml")
    SANDBOX = SandboxedEnvironment()
    OPEN = Environment()
    SAFE_PARSER = etree.XMLParser(resolve_entities=False)
    @app.post("/")
    def upload():
        q = request.args["q"]
        CATALOGUE.find(f".//product[@code='{q}']")
        CATALOGUE.find("product")
        SANDBOX.from_string(q)
        OPEN.from_string(q)
        for f in request.files.getlist("docs"):
            f.save(os.path.join("/srv", f.filename))
        urllib.request.urlopen(urllib.request.Request("https://x.example/", data=q.encode()))
        etree.fromstring(q, parser=SAFE_PARSER)
        return "ok"
    """
    assert scan(code) == {("RP-T009", 16), ("RP-T007", 19), ("RP-T005", 21)}


def test_django_queryset_extra_and_raw(scan: Scan) -> None:
    code = """
    from django.http import JsonResponse
    from shop.models import Item
    def search(request):
        q = request.GET["q"]
        Item.objects.extra(where=[f"name LIKE '%{q}%'"])
        Item.objects.raw("SELECT * FROM item WHERE name = '" + q + "'")
        Item.objects.raw("SELECT * FROM item WHERE name = %s", [q])
        return JsonResponse({})
    """
    assert scan(code) == {("RP-T003", 5), ("RP-T003", 6)}


def test_functools_partial_of_a_sink_is_that_sink(scan: Scan) -> None:
    code = """
    import functools, subprocess, os
    run_sh = functools.partial(subprocess.run, shell=True)
    run_list = functools.partial(subprocess.run, check=True)
    def handler(event, context):
        run_sh("ping -c1 " + event["host"])
        run_list(["ping", "-c1", event["host"]])
        sys_call = functools.partial(os.system)
        sys_call(event["cmd"])
    """
    assert scan(code) == {("RP-T002", 5), ("RP-T002", 8)}


def test_partial_of_itself_or_of_a_partial_is_not_followed(scan: Scan) -> None:
    code = """
    import functools, os
    step = functools.partial(os.system)
    step = functools.partial(step)
    again = functools.partial(step)
    def handler(event, context):
        step(event["cmd"])
        again(event["cmd"])
        return "ok"
    """
    assert scan(code) == set()


def test_more_sink_spellings_adv_gate3_f7(scan: Scan) -> None:
    """adv-gate3 F7: builtins.open, posix.*, posix_spawnp(['sh'] + args), imports, sqlite, smtp."""
    code = """
import builtins, importlib, os, posix, smtplib, sqlite3
def handler(event, context):
    x = event["body"]
    builtins.open(x).read()
    posix.system(x)
    os.posix_spawnp("sh", ["sh"] + x.split(), dict(os.environ))
    importlib.import_module(x)
    __import__(x)
    sqlite3.connect(x)
    smtplib.SMTP(x, 25)
    os.posix_spawnp("ls", ["ls"] + x.split(), dict(os.environ))
    subprocess_free = ["sh", "-c", "id"] + ["--"]
    os.posix_spawnp("sh", subprocess_free, {})
"""
    assert scan(code) == {("RP-T005", 4), ("RP-T002", 5), ("RP-T002", 6), ("RP-T001", 7),
                          ("RP-T001", 8), ("RP-T005", 9), ("RP-T006", 10)}


def test_a_shell_or_interpreter_fed_input_on_stdin_adv_gate3_f4(scan: Scan) -> None:
    """adv-gate3 F4: ``run(["bash"], input=x)`` runs x as a script; a script argument does not."""
    code = """
import subprocess
from subprocess import PIPE
def handler(event, context):
    x = event["body"]
    subprocess.run(["bash"], input=x, capture_output=True, text=True)
    subprocess.Popen(["/bin/sh"], stdin=PIPE, stdout=PIPE).communicate(x.encode())
    subprocess.run(["python3", "-"], input=x)
    subprocess.run(["sh", "script.sh"], input=x)
    subprocess.run(["grep", "-i", "a"], input=x)
    subprocess.Popen(["cat"], stdin=PIPE).communicate(x.encode())
"""
    assert scan(code) == {("RP-T002", 5), ("RP-T002", 6), ("RP-T002", 7)}


def test_ctypes_libc_fileinput_and_debugger_runners_adv_gate3_f5(scan: Scan) -> None:
    """adv-gate3 F5: libc system through ctypes, fileinput files=, pdb/cProfile run strings."""
    code = """
import ctypes, fileinput, pdb, cProfile
def handler(event, context):
    x = event["body"]
    ctypes.CDLL(None).system(x.encode())
    fileinput.input(files=[x])
    pdb.runeval(x)
    cProfile.run(x)
    ctypes.CDLL(None).system(b"true")
    ctypes.CDLL(None).strlen(x.encode())
"""
    assert scan(code) == {("RP-T002", 4), ("RP-T005", 5), ("RP-T001", 6), ("RP-T001", 7)}


def test_a_module_level_tuple_of_sinks_called_by_index_adv_gate3_f5(scan: Scan) -> None:
    """adv-gate3 F5: ``OPS = (os.system, print)`` then ``OPS[0](x)`` may call os.system."""
    code = """
import os
OPS = (os.system, print)
SAFE = [print, len]
def handler(event, context):
    x = event["body"]
    OPS[0](x)
    SAFE[0](x)
"""
    assert scan(code) == {("RP-T002", 6)}
