"""The scanned tree fails closed: newer syntax is analysed, no shipped file is silently unread.

Each test writes a real app dir and runs the real gate (``run_gate``) or the
real ``ramparts scan`` command over it: a file the node would ship is either
scanned, reported as a high gate finding (RP-G001 unparsable, RP-G002 not
text, RP-G003 too big), or excluded for a reason that the output lists.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from ramparts.registry.artifacts import pack_app
from ramparts.scan import sast, source
from ramparts.scan.findings import Severity
from ramparts.scan.gate import Acceptance, GateOptions, GateResult, run_gate
from ramparts.scan.pyparse import parse_python
from ramparts.scan.sarif import to_sarif
from tests.conftest import make_app
from tests.scan.test_cli_scan import scan

MANIFEST = """
app: fc
{scan}functions:
  fc-fn:
    handler: h.py:handler
    timeout: 5s
"""
OK_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


def app(root: Path, files: dict[str, str | bytes], scan: str = "") -> Path:
    make_app(root, MANIFEST.format(scan=scan), {})
    files = {"h.py": OK_HANDLER, **files}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def gate(root: Path) -> GateResult:
    return run_gate(root, GateOptions(use_app_baseline=False))


def found(result: GateResult) -> set[tuple[str, str, int, str]]:
    return {(f.rule_id, f.path, f.line, str(f.severity)) for f in result.findings}


# -- Python 3.12+ syntax is analysed, not skipped -------------------------------------------
PEP701 = '''import os


def handler(event, context):
    name = f"{event["queryStringParameters"]["name"]}"
    joined = f"{'\\n'.join(event['lines'])}"
    os.system(f"echo {event[  # the user's name
        "body"]}")
    return eval(f"{event["code"]!r:>{10}}")
'''


def test_a_pep701_fstring_eval_of_event_data_is_found_at_its_line(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {"h.py": PEP701}))
    got = found(result)
    assert ("RP-T001", "h.py", 9, "high") in got
    assert ("RP-T002", "h.py", 7, "high") in got
    assert ("B605", "h.py", 7, "high") in got
    assert not any(f.rule_id == "RP-G001" for f in result.findings)
    assert any("newer than Python 3.11" in n and "h.py" in n for n in result.notes)


PEP695 = '''import subprocess

type Command[T] = list[T]


def run[T: str](
    args: T,
) -> T:
    return subprocess.check_output(args, shell=True)


class Box[T]:
    def handler(self, event: T) -> None:
        eval(event["body"])


def handler(event, context):
    return subprocess.call(event["cmd"], shell=True)
'''


def test_pep695_type_parameters_and_aliases_are_analysed(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {"h.py": PEP695}))
    got = found(result)
    assert ("RP-T002", "h.py", 18, "high") in got
    assert ("B602", "h.py", 18, "high") in got
    assert ("B602", "h.py", 9, "high") in got  # inside the generic def, on its own line
    assert not any(f.rule_id == "RP-G001" for f in result.findings)


def test_the_translated_tree_keeps_every_name_at_its_own_line_and_column() -> None:
    text = PEP701 + PEP695
    parsed = parse_python(text)
    assert parsed.newer_grammar
    lines = text.splitlines()
    names = [n for n in ast.walk(parsed.tree) if isinstance(n, ast.Name) and n.id != "_"]
    assert len(names) > 15
    for n in names:
        at = lines[n.lineno - 1].encode()[n.col_offset:].decode()
        assert at.startswith(n.id), (n.id, n.lineno, n.col_offset)
    subscripts = [ast.unparse(n) for n in ast.walk(parsed.tree) if isinstance(n, ast.Subscript)]
    assert "event['body']" in subscripts and "event['code']" in subscripts
    compile(parsed.tree, "h.py", "exec")  # a well-formed 3.11 tree
    # the alias became `_ = Command = list[T]`, Command in its own place
    assert "_ = Command = list[T]" in ast.unparse(parsed.tree)


def test_an_fstring_3_11_reads_is_left_as_it_is() -> None:
    plain = "x = f'{a!r} and {b:>{w}}'\n"
    mixed = plain + 'y = f"{d["k"]}"\n'
    assert ast.dump(parse_python(mixed).tree.body[0]) == ast.dump(ast.parse(plain).body[0])
    value = parse_python(mixed).tree.body[1].value
    assert isinstance(value, ast.JoinedStr)
    assert ast.unparse(value) == "f\"{d['k']}\""
    template = parse_python("def h(event, context):\n    return t'{event[\"q\"]}'\n").tree
    assert ast.unparse(template.body[0].body[0].value) == "f\"{event['q']}\""  # as an f-string


# -- what cannot be read fails the gate, high, saying why ----------------------------------
def test_unparsable_python_is_a_high_finding_naming_why(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {"lib/broken.py": "x = 1\ndef broken(:\n    pass\n"}))
    (finding,) = [f for f in result.findings if f.rule_id == "RP-G001"]
    assert (finding.path, finding.line, str(finding.severity)) == ("lib/broken.py", 2, "high")
    assert "invalid syntax" in finding.message and "libcst" in finding.message
    assert not result.passed


def test_newer_syntax_the_translation_does_not_cover_fails_closed(tmp_path: Path) -> None:
    # PEP 758 (3.14): libcst reads it, the translation has no 3.11 form for it
    pep758 = "def handler(event, context):\n    try:\n        pass\n" \
             "    except ValueError, TypeError:\n        eval(event['body'])\n"
    result = gate(app(tmp_path, {"h.py": pep758}))
    (finding,) = [f for f in result.findings if f.rule_id == "RP-G001"]
    assert (finding.line, str(finding.severity)) == (4, "high")
    assert "could not be translated" in finding.message
    assert not result.passed


def test_a_binary_py_file_is_rp_g002(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {
        "native.py": b"\x7fELF\x02\x01\x01\x00\x00\x00import os\n",
        "latin.py": b"# -*- coding: ascii -*-\nname = '\xe9'\n",
    }))
    got = {(f.rule_id, f.path, str(f.severity)) for f in result.findings}
    assert ("RP-G002", "native.py", "high") in got
    assert ("RP-G002", "latin.py", "high") in got
    assert not result.passed


def test_an_oversized_file_is_rp_g003_but_binary_data_is_listed(tmp_path: Path) -> None:
    big = "x = 1\n" * (source.MAX_CODE_BYTES // 6 + 1)
    data = "row,value\n" * (source.MAX_TEXT_BYTES // 10 + 1)
    image = b"\x89PNG\r\n\x1a\n\x00" + b"\x00" * (source.MAX_TEXT_BYTES + 1)
    result = gate(app(tmp_path, {"gen.py": big, "data.csv": data, "img.png": image}))
    got = {(f.rule_id, f.path, str(f.severity)) for f in result.findings}
    assert ("RP-G003", "gen.py", "high") in got
    assert ("RP-G003", "data.csv", "high") in got
    assert not any(f.path == "img.png" for f in result.findings)
    assert {"path": "img.png", "reason": "binary data: not text, no scanner reads it"} in (
        result.to_dict()["excluded"])


def test_a_py_file_past_the_old_2_mib_limit_is_parsed_and_checked(tmp_path: Path) -> None:
    padding = "# generated table, kept in the handler's module\n" * 45_000  # > 2 MiB
    handler = padding + "def handler(event, context):\n    return eval(event['body'])\n"
    assert 2 * 1024 * 1024 < len(handler) < source.MAX_CODE_BYTES
    tree = source.load_tree(app(tmp_path, {"h.py": handler}))
    (sf,) = [f for f in tree.files if f.rel == "h.py"]
    assert sf.tree is not None and sf.problem is None
    # bandit alone (the whole gate adds detect-secrets, a minute on a busy machine)
    findings, _ = sast.run(tree)
    assert ("B307", 45_002) in {(f.rule_id, f.line) for f in findings}


# -- everything the packer ships is scanned or listed -----------------------------------------
VULN = "import os\n\n\ndef run(event, context):\n    os.system('ls ' + event['dir'])\n"


def test_code_under_site_packages_and_deps_is_scanned(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {"site-packages/helper/cmd.py": VULN, ".deps/lib/cmd.py": VULN}))
    paths = {f.path for f in result.findings if f.rule_id == "B605"}
    assert paths == {"site-packages/helper/cmd.py", ".deps/lib/cmd.py"}


def test_the_scan_reads_or_lists_exactly_what_pack_app_ships(tmp_path: Path) -> None:
    root = app(tmp_path, {"site-packages/a.py": "x = 1\n", ".deps/b.py": "y = 2\n",
                          "vendor/c.py": VULN, "logo.png": b"\x89PNG\x00\x00"},
               scan="scan: {exclude: ['vendor/**']}\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "h.cpython-311.pyc").write_bytes(b"\x00")
    with tarfile.open(fileobj=gzip.GzipFile(fileobj=io.BytesIO(pack_app(root)))) as tar:
        shipped = {m.name for m in tar.getmembers()}
    tree = source.load_tree(root, ["vendor/**"])
    read = {f.rel for f in tree.files if f.text is not None or f.problem is not None}
    listed = {e.path for e in tree.excluded}
    assert read | listed == shipped and not read & listed
    assert listed == {"vendor/c.py", "logo.png"}


def test_user_exclusions_are_not_scanned_and_are_listed_everywhere(tmp_path: Path) -> None:
    root = app(tmp_path, {"vendor/lib/cmd.py": VULN, "vendor/data.json": "{}"},
               scan="scan:\n  exclude: ['vendor/**']\n")
    result = gate(root)
    assert result.passed and not any(f.path.startswith("vendor/") for f in result.findings)
    excluded = result.to_dict()["excluded"]
    assert {e["path"] for e in excluded} == {"vendor/lib/cmd.py", "vendor/data.json"}
    assert all(e["pattern"] == "vendor/**" and "scan.exclude" in e["reason"] for e in excluded)
    (group,) = result.summary()["excluded"]  # what a deploy report and its audit carry
    assert group["count"] == 2 and group["pattern"] == "vendor/**"
    notes = to_sarif(result)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert any("vendor/lib/cmd.py" in t and "vendor/**" in t for t in texts)
    table = scan(str(root), "--offline")
    assert table.returncode == 0, table.stderr
    assert "not scanned" in table.stdout and "vendor/lib/cmd.py" in table.stdout
    doc = json.loads(scan(str(root), "--format", "json", "--offline").stdout)
    assert {e["path"] for e in doc["excluded"]} == {"vendor/lib/cmd.py", "vendor/data.json"}


@pytest.mark.parametrize(("value", "message"), [
    ("scan: {exclude: vendor}", "scan.exclude: Input should be a valid list"),
    ("scan: {exclude: ['../outside/**']}", "scan.exclude[0]: '../outside/**': a path inside"),
    ("scan: {exclude: ['ok/**', '!keep.py']}", "scan.exclude[1]: '!keep.py': only plain"),
    ("scan: {exclude: ['[']}", "scan.exclude[0]: '[' is not a valid pattern"),
    ("scan: {exclude: ['*.py']}", "scan.exclude[0]: '*.py' would exclude the handler file"),
    ("scan: {exclude: ['']}", "scan.exclude[0]: an empty pattern"),
    ("scan: {exclude: [3]}", "scan.exclude[0]: Input should be a valid string"),
    ("scan: {skip: ['a']}", "scan.skip: unknown field"),
])
def test_bad_scan_values_are_clear_errors_naming_the_field(
    tmp_path: Path, value: str, message: str
) -> None:
    root = app(tmp_path, {}, scan=value + "\n")
    done = scan(str(root), "--offline")
    assert done.returncode == 2
    text = " ".join(done.stderr.split())
    assert "ramparts.yaml" in text and message in text, text
    assert "Traceback" not in done.stderr


# -- code too deep for a parser or a scanner: a high finding naming the file, never a crash --
def _plus_chain(terms: int) -> str:
    return ("def handler(event, context):\n    x = event['a']"
            + " + event['a']" * terms + "\n    return x\n")


def _elif_chain(branches: int) -> str:
    lines = ["def handler(event, context):", "    a = event.get('a')", "    if a == 'v0':",
             "        r = 0"]
    for i in range(1, branches):
        lines += [f"    elif a == 'v{i}':", f"        r = {i}"]
    return "\n".join([*lines, "    else:", "        r = -1", "    return r", ""])


def test_python_too_deep_for_the_parser_is_rp_g001_in_the_cli(tmp_path: Path) -> None:
    done = scan(str(app(tmp_path, {"gen.py": _plus_chain(5000)})), "--format", "json",
                "--offline")
    assert done.returncode == 1, done.stderr  # findings, not "could not run"
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    (g,) = [f for f in report["findings"] if f["rule_id"] == "RP-G001"]
    assert (g["path"], g["severity"]) == ("gen.py", "high")
    assert "nested too deeply" in g["message"]


@pytest.mark.parametrize("text, scanner", [
    (_plus_chain(1500), "bandit"),  # Python parses it; bandit's visitor recurses too deep
    (_elif_chain(400), "taint"),  # a long elif dispatch table: too deep for the taint walk
])
def test_a_file_too_deep_for_a_scanner_is_rp_g004_naming_it(
    tmp_path: Path, text: str, scanner: str
) -> None:
    result = gate(app(tmp_path, {"h.py": text, "other.py": "import os\nos.system(input())\n"}))
    deep = [f for f in result.findings if f.rule_id == "RP-G004"]
    assert {(f.path, str(f.severity)) for f in deep} == {("h.py", "high")}
    assert any(f"the {scanner} scanner" in f.message and "h.py" in f.message for f in deep)
    assert not result.passed
    # the rest of the app is still scanned
    assert any(f.path == "other.py" and f.severity >= Severity.HIGH for f in result.findings)


def test_a_deep_module_constant_beside_a_finding_is_rp_g004_not_a_traceback(
    tmp_path: Path,
) -> None:
    # adversarial review 2, F11: a 1,500-term table at module level plus a finding in
    # the same file crashed the finding-scope walk (RecursionError traceback, node 500)
    text = ("import os\n\nTABLE = 1" + " + 1" * 1500 + "\n\n\n"
            "def handler(event, context):\n"
            "    return {'statusCode': 200, 'body': os.popen(event['body']).read()}\n")
    done = scan(str(app(tmp_path, {"h.py": text})), "--format", "json", "--offline")
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
    rules = {f["rule_id"] for f in json.loads(done.stdout)["findings"] if f["path"] == "h.py"}
    assert "RP-G004" in rules


def test_an_accepted_rp_g004_lapses_when_the_file_changes(tmp_path: Path) -> None:
    # adversarial review 2, F3: the id was file + scanner only, so one acceptance of
    # "too deep for taint" covered every later version of the file, new code included
    v1 = gate(app(tmp_path / "v1", {"h.py": _elif_chain(400)}))
    same = gate(app(tmp_path / "same", {"h.py": _elif_chain(400)}))
    v2_text = _elif_chain(400).replace("    return r\n", "    return open(event['p']).read()\n")
    v2 = gate(app(tmp_path / "v2", {"h.py": v2_text}))

    def g004(result: GateResult) -> str:
        (f,) = [f for f in result.findings if f.rule_id == "RP-G004"]
        return f.id

    assert g004(v1) == g004(same)
    assert g004(v2) != g004(v1)
    accepted = run_gate(tmp_path / "v2", GateOptions(
        use_app_baseline=False, accept=[Acceptance(g004(v1), "generated table, reviewed")]))
    assert not accepted.passed
    assert [f.rule_id for f in accepted.blocking] == ["RP-G004"]


# -- review 2, F15: secrets in UTF-16 or gzip-compressed text are read, not "binary" ----------
_CONFIG = "[stripe]\napi_key = sk_live_4eC39HqLyjWDarjtT1zdp7dc\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("config.ini", _CONFIG.encode("utf-16")),  # with a BOM
        ("config16.ini", _CONFIG.encode("utf-16-le")),  # without: NUL every other byte
        # mtime=0: the same bytes in every process (pytest-xdist workers must collect the same ids)
        ("config.ini.gz", gzip.compress(_CONFIG.encode(), mtime=0)),
        ("config16.ini.gz", gzip.compress(_CONFIG.encode("utf-16"), mtime=0)),
    ],
    ids=["utf16-bom", "utf16-le", "gzip", "gzip-utf16"],
)
def test_a_secret_in_utf16_or_gzip_text_is_found(tmp_path: Path, name: str, data: bytes) -> None:
    result = gate(app(tmp_path, {name: data}))
    assert ("RP-S001", name, 2, "high") in found(result)
    assert name not in {e.path for e in result.excluded}


def test_compressed_binary_data_is_listed_not_scanned(tmp_path: Path) -> None:
    result = gate(app(tmp_path, {"blob.bin.gz": gzip.compress(b"\x00\x01\x02" * 100)}))
    assert "blob.bin.gz" in {e.path for e in result.excluded}
