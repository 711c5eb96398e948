"""The per-file scanners through the cache and the worker processes (scan/runner.py).

A realistic tree: a vulnerable handler app (bandit, taint and a secret) with
a real installed package (PyYAML's sources, which bandit flags in places)
copied in next to it.  Every run is the real gate: real bandit, real
detect-secrets, real worker processes, a real cache directory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from ramparts.scan import runner
from ramparts.scan.errors import ScannerFailed
from ramparts.scan.gate import GateOptions, run_gate
from tests.scan.apps import vulnerable_app

SECRET_FILE = 'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n'
# Python 3.12 syntax (PEP 695): parsed through libcst; workers must see the same tree
NEWER_FILE = ('import os\n\n\ndef run[T](name: T) -> T:\n'
              '    os.system("ls " + name)\n    return name\n')


def _tree(tmp_path: Path) -> Path:
    root = vulnerable_app(tmp_path / "app")
    shutil.copytree(Path(yaml.__file__).parent, root / "lib" / "yaml",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    (root / "settings.py").write_text(SECRET_FILE)
    (root / "newer.py").write_text(NEWER_FILE)
    return root


def _findings(root: Path, **options: object) -> list[tuple[str, str, int, str, str]]:
    result = run_gate(root, GateOptions(**options))  # type: ignore[arg-type]
    return sorted((f.id, f.rule_id, f.line, f.path, f.message) for f in result.findings)


@pytest.fixture
def many_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers even for a small tree, so the pool really runs."""
    monkeypatch.setattr(runner, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)


def test_pool_and_cache_give_the_same_findings_as_a_plain_scan(
    tmp_path: Path, many_workers: None
) -> None:
    root = _tree(tmp_path)
    plain = _findings(root)
    rules = {f[1] for f in plain}
    assert {"B605", "RP-T002", "RP-S001"} <= rules  # the tree really has findings of each kind
    assert any(f[3].startswith("lib/yaml/") for f in plain)
    assert any(f[3] == "newer.py" and f[1].startswith("B6") for f in plain)
    cache = tmp_path / "cache"
    assert _findings(root, parallel=True) == plain
    assert _findings(root, parallel=True, cache_dir=cache) == plain  # cold
    assert any(cache.rglob("*.json"))
    assert _findings(root, parallel=True, cache_dir=cache) == plain  # warm
    assert _findings(root, cache_dir=cache) == plain  # warm, in process


def _count_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    scanned: list[str] = []
    families = []
    for fam in runner.FAMILIES:
        def scan(sf: object, _orig: runner.Scan = fam.scan) -> object:
            scanned.append(sf.rel)  # type: ignore[attr-defined]
            return _orig(sf)  # type: ignore[arg-type]
        families.append(runner.FileFamily(fam.name, fam.applies, scan, fam.packages,
                                           fam.modules))
    monkeypatch.setattr(runner, "FAMILIES", tuple(families))
    return scanned


def test_a_warm_cache_rescans_only_the_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    cache = tmp_path / "cache"
    first = _findings(root, cache_dir=cache)
    scanned = _count_scans(monkeypatch)
    assert _findings(root, cache_dir=cache) == first
    assert scanned == []
    (root / "settings.py").write_text("AWS_KEY = None\n")  # the secret is gone
    changed = _findings(root, cache_dir=cache)
    assert sorted(set(scanned)) == ["settings.py"]
    assert not any(f[3] == "settings.py" for f in changed)
    (root / "settings.py").write_text(SECRET_FILE)  # and back: found again
    assert _findings(root, cache_dir=cache) == first


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*.json") if p.parent != cache]


def test_a_tampered_entry_is_rescanned_never_trusted(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    cache = tmp_path / "cache"
    first = _findings(root, cache_dir=cache)
    # an attacker empties every entry's findings but keeps each (now wrong) signature
    for entry in _entries(cache):
        mac, _ = entry.read_bytes().split(b"\n", 1)
        entry.write_bytes(mac + b'\n{"findings":[],"rules":[]}')
    assert _findings(root, cache_dir=cache) == first
    # garbage and truncated entries too
    for n, entry in enumerate(_entries(cache)):
        entry.write_bytes(b"\xff\x00garbage" if n % 2 else entry.read_bytes()[:10])
    assert _findings(root, cache_dir=cache) == first


def test_an_entry_signed_with_another_key_is_rescanned(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    (root / "settings.py").write_text("AWS_KEY = None\n")
    _findings(root, cache_dir=theirs)  # a cache that has seen the clean file...
    (root / "settings.py").write_text(SECRET_FILE)
    first = _findings(root, cache_dir=ours)
    # ...whose entries (right names, foreign key) are planted over ours
    for entry in _entries(theirs):
        target = ours / entry.relative_to(theirs)
        target.parent.mkdir(exist_ok=True)
        shutil.copy(entry, target)
    (root / "settings.py").write_text(SECRET_FILE)
    assert _findings(root, cache_dir=ours) == first
    assert any(f[3] == "settings.py" and f[1] == "RP-S001" for f in first)


def test_an_entry_under_another_name_is_not_trusted(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    cache = tmp_path / "cache"
    (root / "settings.py").write_text("AWS_KEY = None\n")
    _findings(root, cache_dir=cache)
    clean = {p.name: p.read_bytes() for p in _entries(cache)}
    (root / "settings.py").write_text(SECRET_FILE)
    first = _findings(root, cache_dir=cache)
    new = [p for p in _entries(cache) if p.name not in clean]
    assert new  # the secret file's entries
    donor = next(iter(clean.values()))  # a validly signed entry of some clean file
    for p in new:
        p.write_bytes(donor)
    assert _findings(root, cache_dir=cache) == first


@pytest.mark.parametrize("command", [
    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",  # dies
    "import sys; sys.stdin.readline(); print('{\"results\": {}}')",  # leaves every file out
    "import sys; sys.stdin.readline(); print('not json')",
])
def test_a_broken_worker_fails_the_scan_closed(
    tmp_path: Path, many_workers: None, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    root = _tree(tmp_path)
    cache = tmp_path / "cache"
    monkeypatch.setattr(runner._WorkerJob, "COMMAND", (sys.executable, "-c", command))
    with pytest.raises(ScannerFailed) as info:
        run_gate(root, GateOptions(parallel=True, cache_dir=cache))
    assert "fails closed" in info.value.message
    assert not _entries(cache)  # nothing cached from a failed scan
