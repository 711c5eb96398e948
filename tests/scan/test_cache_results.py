"""What a warm scan reuses beyond bandit and detect-secrets (scan/taint_cache.py, runner.py).

The logic checks are cached per file, the taint rules' result per whole app,
parse outcomes and scope spans per file.  Every run here is the real gate
over a real app directory with a real cache directory; the truth each cached
run is compared with is a scan without a cache.  The cross-module app below
has its taint finding in ``helpers.py``, but whether it exists depends on
``handler.py``: the case a per-file taint cache would get wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ramparts.scan import source as source_mod
from ramparts.scan import taint_cache
from ramparts.scan.cache import ScanCache, digest_name, source_digest
from ramparts.scan.errors import ScannerFailed
from ramparts.scan.gate import GateOptions, run_gate
from ramparts.scan.runner import family_version
from ramparts.scan.source import load_tree

HANDLER = """
from helpers import run


def handler(event, context):
    return run(event["body"])
"""
HANDLER_CONSTANT = """
from helpers import run


def handler(event, context):
    return run("constant")
"""
HELPERS = """
import os


def run(cmd):
    os.system("echo " + cmd)
    return "ok"
"""
TLS = """
import requests


def fetch(url):
    return requests.get(url, verify=False)
"""
UNPARSABLE = "def broken(:\n    pass\n"
NEWER = "def ident[T](value: T) -> T:\n    return value\n"

Result = tuple[list[tuple[str, str, str, int, str, str]], list[str]]


def _app(root: Path) -> Path:
    root.mkdir()
    for name, text in {
        "handler.py": HANDLER,
        "helpers.py": HELPERS,
        "tls.py": TLS,
        "broken.py": UNPARSABLE,
        "newer.py": NEWER,
    }.items():
        (root / name).write_text(textwrap.dedent(text).lstrip())
    return root


def _scan(root: Path, cache: Path | None) -> Result:
    result = run_gate(root, GateOptions(cache_dir=cache))
    found = sorted(
        (f.id, f.rule_id, f.path, f.line, f.message, f.scope or "") for f in result.findings
    )
    return found, sorted(result.notes)


def _rules(result: Result, path: str) -> set[str]:
    return {f[1] for f in result[0] if f[2] == path}


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*.json") if p.parent != cache]


def test_cold_warm_and_changed_caches_match_an_uncached_scan(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    truth = _scan(root, None)
    assert "RP-T002" in _rules(truth, "helpers.py")  # the cross-module flow
    assert "RP-L005" in _rules(truth, "tls.py")  # a logic finding
    assert "RP-G001" in _rules(truth, "broken.py")
    assert any("newer.py" in note for note in truth[1])  # read through libcst
    assert _scan(root, cache) == truth  # cold
    assert _scan(root, cache) == truth  # warm

    # only the caller changes: the finding in the unchanged callee must go ...
    (root / "handler.py").write_text(textwrap.dedent(HANDLER_CONSTANT).lstrip())
    gone = _scan(root, cache)
    assert gone == _scan(root, None)
    assert "RP-T002" not in _rules(gone, "helpers.py")
    assert "B605" in _rules(gone, "helpers.py")  # bandit's per-file finding stays
    # ... and come back when the caller does
    (root / "handler.py").write_text(textwrap.dedent(HANDLER).lstrip())
    assert _scan(root, cache) == truth

    # a logic finding follows its own file's content
    (root / "tls.py").write_text(
        "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"
    )
    fixed = _scan(root, cache)
    assert fixed == _scan(root, None)
    assert "RP-L005" not in _rules(fixed, "tls.py")


def test_a_warm_scan_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    truth = _scan(root, cache)
    parsed: list[str] = []
    real = source_mod.parse_python

    def counting(text: str, filename: str = "<unknown>") -> object:
        parsed.append(filename)
        return real(text, filename=filename)

    monkeypatch.setattr(source_mod, "parse_python", counting)
    assert _scan(root, cache) == truth  # the unparsable file still fails, from the cache
    assert parsed == []
    (root / "helpers.py").write_text(textwrap.dedent(HELPERS).lstrip() + "\n# edited\n")
    assert _scan(root, cache) == _scan(root, None)
    assert "helpers.py" in parsed


def test_a_warm_scan_of_ordinary_code_loads_no_scanner_library(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "handler.py").write_text(textwrap.dedent(HANDLER).lstrip())
    (root / "helpers.py").write_text(textwrap.dedent(HELPERS).lstrip())
    program = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from ramparts.scan.gate import GateOptions, run_gate
        result = run_gate(Path(sys.argv[1]), GateOptions(cache_dir=Path(sys.argv[2])))
        print(json.dumps({"rules": sorted({f.rule_id for f in result.findings}),
                          "loaded": sorted(m for m in ("bandit", "detect_secrets", "libcst")
                                           if m in sys.modules)}))
    """)

    def run() -> dict[str, list[str]]:
        out = subprocess.run(
            [sys.executable, "-c", program, str(root), str(tmp_path / "c")],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return json.loads(out.stdout)

    cold = run()
    assert {"B605", "RP-T002"} <= set(cold["rules"])
    assert {"bandit", "detect_secrets"} <= set(cold["loaded"])  # they really ran
    warm = run()
    assert warm["rules"] == cold["rules"]
    assert warm["loaded"] == []


def _taint_entry(root: Path, cache: Path) -> Path:
    name = taint_cache.entry_name(load_tree(root), {})
    return cache / name[:2] / f"{name}.json"


def _logic_entry(root: Path, cache: Path, rel: str) -> Path:
    sf = load_tree(root).get(rel)
    assert sf is not None
    name = digest_name("logic", family_version("logic"), rel, sf.digest)
    return cache / name[:2] / f"{name}.json"


def test_tampered_taint_and_logic_entries_are_rescanned(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    truth = _scan(root, cache)
    for entry in (_taint_entry(root, cache), _logic_entry(root, cache, "tls.py")):
        assert entry.is_file()
        mac, body = entry.read_bytes().split(b"\n", 1)
        assert json.loads(body)["findings"]  # it holds the findings an attacker would hide
        entry.write_bytes(mac + b'\n{"findings":[],"rules":[]}')  # emptied, old signature
    assert _scan(root, cache) == truth
    for entry in (_taint_entry(root, cache), _logic_entry(root, cache, "tls.py")):
        entry.write_bytes(entry.read_bytes()[:20])  # truncated
    assert _scan(root, cache) == truth


def test_the_clean_apps_taint_entry_is_not_trusted_for_the_vulnerable_app(
    tmp_path: Path,
) -> None:
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    (root / "handler.py").write_text(textwrap.dedent(HANDLER_CONSTANT).lstrip())
    _scan(root, cache)
    clean = _taint_entry(root, cache).read_bytes()  # validly signed, no RP-T002
    (root / "handler.py").write_text(textwrap.dedent(HANDLER).lstrip())
    truth = _scan(root, None)
    target = _taint_entry(root, cache)
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(clean)  # planted under the vulnerable app's name
    assert _scan(root, cache) == truth
    assert "RP-T002" in _rules(truth, "helpers.py")


def test_a_cached_parse_outcome_that_is_wrong_fails_closed(tmp_path: Path) -> None:
    """Even an entry signed with the cache's own key cannot make an unparsable file pass."""
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    _scan(root, cache)
    sf = load_tree(root).get("broken.py")
    assert sf is not None and sf.problem is not None
    name = digest_name("parse", source_mod._parse_version(), "broken.py", sf.digest)
    ScanCache(cache).put(name, {"parses": True, "newer_grammar": False, "problem": None})
    with pytest.raises(ScannerFailed) as info:
        run_gate(root, GateOptions(cache_dir=cache))
    assert "broken.py" in info.value.message and "fails closed" in info.value.message


def test_a_rule_change_misses_every_entry_made_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the version string follows the source of the modules that make the result
    package = tmp_path / "lib" / "rp_rules_probe"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rules.py").write_text("SEVERITY = 'high'\n")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    before = source_digest("rp_rules_probe")
    (package / "rules.py").write_text("SEVERITY = 'medium'\n")
    assert source_digest("rp_rules_probe") != before

    # and a taint result cached under another engine version is not used
    root = _app(tmp_path / "app")
    cache = tmp_path / "cache"
    truth = _scan(root, cache)
    stale = _taint_entry(root, cache)
    monkeypatch.setattr(taint_cache, "version", lambda: "an edited rule")
    fresh = _taint_entry(root, cache)
    assert fresh != stale and not fresh.exists()
    assert _scan(root, cache) == truth
    assert fresh.is_file()  # the engine ran and kept its result under the new version


def test_bandit_results_follow_the_calibration_and_the_taint_proof() -> None:
    """An edit to calibrate.py or the taint engine re-rates bandit's findings: a miss."""
    from ramparts.scan.runner import FAMILIES

    bandit = next(f for f in FAMILIES if f.name == "bandit")
    named = {m if isinstance(m, str) else m.__name__ for m in bandit.modules}
    assert {"ramparts.scan.sast", "ramparts.scan.calibrate", "ramparts.scan.taint"} <= named
