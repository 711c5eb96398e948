"""Code the app runs from string literals or non-.py files (review 2, F7), through the real gate."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ramparts.scan.gate import GateOptions, GateResult, run_gate
from tests.conftest import make_app
from tests.scan.apps import manifest

EXEC_LITERAL = '''
_PLUGIN = """
def handler(event, context):
    return {"statusCode": 200, "body": open(event["body"]).read()}
"""
exec(compile(_PLUGIN, "plugin", "exec"))
'''


def gate(root: Path) -> GateResult:
    return run_gate(root, GateOptions(use_app_baseline=False))


def high(result: GateResult) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.path, f.line) for f in result.blocking}


def test_exec_of_a_string_literal_is_scanned_as_code(tmp_path: Path) -> None:
    result = gate(make_app(tmp_path, manifest("lit", "/lit"), {"h.py": EXEC_LITERAL}))
    assert ("RP-T005", "h.py", 6) in high(result)  # reported at the exec(compile(...)) call
    (f,) = [f for f in result.blocking if f.rule_id == "RP-T005"]
    assert "string literal, its line 3" in f.message
    # the id follows the embedded code: another payload is another finding
    other = EXEC_LITERAL.replace('open(event["body"]).read()', 'open(event["path"]).read()')
    again = gate(make_app(tmp_path / "b", manifest("lit", "/lit"), {"h.py": other}))
    (g,) = [g for g in again.blocking if g.rule_id == "RP-T005"]
    assert g.id != f.id


def test_a_harmless_literal_is_not_a_finding(tmp_path: Path) -> None:
    text = (
        'RULE = "x = 1 + 2"\nexec(compile(RULE, "r", "exec"))\n\n\n'
        "def handler(event, context):\n    return {}\n"
    )
    result = gate(make_app(tmp_path, manifest("ok", "/ok"), {"h.py": text}))
    assert not {r for r, _, _ in high(result)}


LOADERS = {
    "source_file_loader": (
        "import importlib.machinery\n"
        'm = importlib.machinery.SourceFileLoader("impl", "/var/task/impl.txt").load_module()\n',
        2,
    ),
    "spec_from_file_location": (
        "from importlib.util import spec_from_file_location\n"
        's = spec_from_file_location("impl", "impl.txt")\n',
        2,
    ),
    "run_path": ('import runpy\nrunpy.run_path("/var/task/tool.bin")\n', 2),
    "zipimport": ('import zipimport\nzipimport.zipimporter("vendor.zip")\n', 2),
    "archive_on_sys_path": ('import sys\nsys.path.insert(0, "/var/task/vendor.zip")\n', 2),
    "exec_file_text": (
        'ns = {}\nwith open("/var/task/rules.cfg") as f:\n    exec(f.read(), ns)\n',
        3,
    ),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loading_code_from_an_unscanned_file_is_rp_g005(tmp_path: Path, name: str) -> None:
    code, line = LOADERS[name]
    files = {
        "h.py": code + "\n\ndef handler(event, context):\n    return {}\n",
        "impl.txt": "import os\ndef go(e):\n    return os.popen(e['body']).read()\n",
        "rules.cfg": "x = 1\n",
    }
    result = gate(make_app(tmp_path, manifest("ld", "/ld"), files))
    assert ("RP-G005", "h.py", line) in high(result)


def test_loading_a_scanned_py_file_by_path_is_not_rp_g005(tmp_path: Path) -> None:
    code = (
        "import importlib.util, os\n"
        "spec = importlib.util.spec_from_file_location(\n"
        '    "plugin", os.path.join(os.path.dirname(__file__), "plugins/plugin.py"))\n'
        'exec(open("/var/task/plugins/plugin.py").read())\n\n\n'
        "def handler(event, context):\n    return {}\n"
    )
    files = {"h.py": code, "plugins/plugin.py": "X = 1\n"}
    result = gate(make_app(tmp_path, manifest("pl", "/pl"), files))
    assert not [f for f in result.findings if f.rule_id == "RP-G005"]


def test_the_node_refuses_an_exec_literal_handler(tmp_path: Path) -> None:
    from tests.conftest import RunningNode

    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": "off"}).start()
    try:
        app = make_app(tmp_path / "app", manifest("execlit", "/execlit"), {"h.py": EXEC_LITERAL})
        r = node.deploy(app)
        assert r.status_code == 422, r.text
        assert "RP-T005" in {f["rule_id"] for f in r.json()["findings"]}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("helpers.py", "import os\ndef go(e):\n    return os.popen(e).read()\n")
        app2 = make_app(
            tmp_path / "zip",
            manifest("zipped", "/zipped"),
            {
                "h.py": 'import sys\nsys.path.insert(0, "/var/task/vendor.zip")\n'
                "import helpers\n\n\n"
                "def handler(event, context):\n    return helpers.go(event['body'])\n"
            },
        )
        (app2 / "vendor.zip").write_bytes(buf.getvalue())
        r = node.deploy(app2)
        assert r.status_code == 422, r.text
        assert "RP-G005" in {f["rule_id"] for f in r.json()["findings"]}
    finally:
        node.close()


# Review 3, F3: any file (zipimport reads an archive under any name) or unfollowable value put
# on sys.path, by any mutation, and site.addsitedir of a directory whose .pth files add more.
_HERE = "os.path.dirname(__file__)"
PATH_ADDS = {
    "join_zip": f'sys.path.insert(0, os.path.join({_HERE}, "lib.zip"))\n',
    "non_zip_name": f'sys.path.insert(0, os.path.join({_HERE}, "assets/fonts.dat"))\n',
    "constant": f'LIB = os.path.join({_HERE}, "lib.zip")\nsys.path.insert(0, LIB)\n',
    "extend": f'sys.path.extend([os.path.join({_HERE}, "lib.zip")])\n',
    "slice": f'sys.path[:0] = [os.path.join({_HERE}, "lib.zip")]\n',
    "iadd": f'sys.path += [os.path.join({_HERE}, "lib.zip")]\n',
    "rsplit": 'sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/lib.zip")\n',
    "concat_suffix": f'sys.path.insert(0, {_HERE} + "/lib" + ".zip")\n',
    "unfollowable": "def _add(p):\n    sys.path.insert(0, p)\n",
    "addsitedir_pth": f'site.addsitedir(os.path.join({_HERE}, "vendor"))\n',
}


@pytest.mark.parametrize("name", sorted(PATH_ADDS))
def test_a_file_or_unknown_value_on_sys_path_is_rp_g005(tmp_path: Path, name: str) -> None:
    code = "import os, site, sys\n" + PATH_ADDS[name]
    line = code.count("\n")
    files = {
        "h.py": code
        + "import shim\n\n\ndef handler(event, context):\n    return shim.run(event)\n",
        "vendor/fonts.pth": "fonts.dat\n",
    }
    app = make_app(tmp_path, manifest("zp", "/zp"), files)
    (app / "lib.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    assert ("RP-G005", "h.py", line) in high(gate(app))


def test_an_app_directory_on_sys_path_is_not_rp_g005(tmp_path: Path) -> None:
    code = (
        "import os, sys\nfrom pathlib import Path\n"
        f'sys.path.insert(0, os.path.join({_HERE}, "vendor"))\n'
        "sys.path.append(str(Path(__file__).parent / \"lib\"))\n"
        f"sys.path.insert(0, {_HERE})\n\n\n"
        "def handler(event, context):\n    return {}\n"
    )
    result = gate(make_app(tmp_path, manifest("dirs", "/dirs"), {"h.py": code}))
    assert not [f for f in result.findings if f.rule_id == "RP-G005"]


# Review 3, F10: text read from a file (or package data) reaches exec through a name.
EXEC_READS = {
    "local_name": (
        'import os\nHERE = os.path.dirname(__file__)\n'
        'src = open(os.path.join(HERE, "plugin.txt")).read()\nexec(src)\n',
        4,
    ),
    "pkgutil_get_data": ('import pkgutil\nexec(pkgutil.get_data("h", "plugin.txt"))\n', 2),
    "two_names": (
        'raw = open("plugin.txt").read()\ncode = raw.strip()\n'
        'eval(compile(code, "p", "exec"))\n',
        3,
    ),
}


@pytest.mark.parametrize("name", sorted(EXEC_READS))
def test_exec_of_file_text_through_a_name_is_rp_g005(tmp_path: Path, name: str) -> None:
    code, line = EXEC_READS[name]
    files = {
        "h.py": code + "\n\ndef handler(event, context):\n    return run(event)\n",
        "plugin.txt": "import subprocess\ndef run(e):\n"
        "    return subprocess.run(e['body'], shell=True)\n",
    }
    result = gate(make_app(tmp_path, manifest("g5", "/g5"), files))
    assert ("RP-G005", "h.py", line) in high(result)


# Review 3, F9: Python imports util.cpython-*.so in preference to the util.py the gate reads.
def test_a_shipped_native_extension_module_is_rp_g005(tmp_path: Path) -> None:
    files = {
        "h.py": "import util\n\n\ndef handler(event, context):\n    return util.f(event['body'])\n",
        "util.py": "def f(x):\n    return 'benign'\n",
    }
    app = make_app(tmp_path, manifest("so", "/so"), files)
    native = "util.cpython-311-x86_64-linux-gnu.so"
    (app / native).write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 64)
    (app / "pkg").mkdir()
    (app / "pkg" / "fast.pyd").write_bytes(b"MZ\0\0" + b"\0" * 64)
    assert {("RP-G005", native, 1), ("RP-G005", "pkg/fast.pyd", 1)} <= high(gate(app))
    # an explicit scan.exclude is the user's accepted, listed decision
    (app / "ramparts.yaml").write_text(
        (app / "ramparts.yaml").read_text() + 'scan:\n  exclude: ["*.so", "pkg/fast.pyd"]\n'
    )
    result = gate(app)
    assert not [f for f in result.findings if f.rule_id == "RP-G005"]
    assert native in {e.path for e in result.excluded}
