"""Every dependency-file format is read, pins are matched, ranges are flagged.

Advisory data is the shared OSV snapshot of the PyPA database; without it the
matching tests skip (the parsers are still tested).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from packaging.version import Version

from ramparts.scan import deps
from ramparts.scan.advisories import LocalAdvisories
from ramparts.scan.source import load_tree
from tests.conftest import OSV_SNAPSHOT

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = OSV_SNAPSHOT
needs_snapshot = pytest.mark.skipif(
    not SNAPSHOT.is_dir(), reason=f"the shared OSV snapshot is not at {SNAPSHOT}"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def reqs(root: Path) -> dict[str, deps.Requirement]:
    found, notes = deps.collect(load_tree(root))
    assert notes == []
    return {f"{r.path}:{r.name}": r for r in found}


def test_requirements_txt(tmp_path: Path) -> None:
    root = write(tmp_path, {"requirements.txt": """
        # pinned, with a comment
        Jinja2==2.10  # templates
        requests>=2.31
        urllib3==2.2.2 \\
            --hash=sha256:abc
        PyYAML===6.0.1 ; python_version >= "3.8"
        -r other.txt
        --index-url https://example.invalid/simple
        -e ./local-lib
        git+https://example.invalid/repo.git#egg=thing
        flask
    """})
    r = reqs(root)
    assert r["requirements.txt:jinja2"].version == Version("2.10")
    assert r["requirements.txt:jinja2"].line == 2
    assert r["requirements.txt:urllib3"].version == Version("2.2.2")  # continuation + hash
    assert r["requirements.txt:pyyaml"].version == Version("6.0.1")
    assert not r["requirements.txt:requests"].pinned
    assert r["requirements.txt:requests"].line == 3
    assert not r["requirements.txt:flask"].pinned
    assert "editable" in r["requirements.txt:local-lib"].problem
    assert any("URL" in x.problem for x in r.values() if x.name.startswith("repo"))
    assert "other" not in " ".join(r)  # -r includes are files of their own


def test_requirements_variants_and_folders_are_found(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "requirements-dev.txt": "pytest==8.0.0\n",
        "requirements/prod.txt": "httpx==0.27.0\n",
        "fn/requirements.txt": "orjson==3.10.0\n",
        "notes.txt": "jinja2==2.10\n",
    })
    r = reqs(root)
    assert set(r) == {"requirements-dev.txt:pytest", "requirements/prod.txt:httpx",
                      "fn/requirements.txt:orjson"}


def test_pyproject_pep621_dependency_groups_and_poetry(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": """
        [project]
        name = "my-app"
        dependencies = ["jinja2==2.10", "httpx>=0.27"]
        [project.optional-dependencies]
        yaml = ["PyYAML==5.3"]
        all = ["my-app[yaml]"]
        [dependency-groups]
        test = ["pytest==8.0.0"]
        [tool.poetry.dependencies]
        python = "^3.11"
        requests = "2.19.0"
        django = "^4.2"
        [tool.poetry.group.dev.dependencies]
        black = {version = "==24.1.0"}
    """})
    r = reqs(root)
    assert r["pyproject.toml:jinja2"].version == Version("2.10")
    assert r["pyproject.toml:jinja2"].line == 3
    assert not r["pyproject.toml:httpx"].pinned
    assert r["pyproject.toml:pyyaml"].version == Version("5.3")
    assert r["pyproject.toml:pytest"].version == Version("8.0.0")
    assert r["pyproject.toml:requests"].version == Version("2.19.0")  # a bare poetry version
    assert not r["pyproject.toml:django"].pinned
    assert r["pyproject.toml:black"].version == Version("24.1.0")
    assert "pyproject.toml:python" not in r
    assert "pyproject.toml:my-app" not in r  # self-reference of an extra


def test_a_lock_file_pins_what_pyproject_leaves_open(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pyproject.toml": '[project]\nname = "a"\ndependencies = ["httpx>=0.27", "rich==13.7.0"]\n',
        "poetry.lock": """
            [[package]]
            name = "httpx"
            version = "0.27.0"

            [[package]]
            name = "Jinja2"
            version = "2.10"
        """,
    })
    r = reqs(root)
    assert "pyproject.toml:httpx" not in r  # the range is the lock's business
    assert r["pyproject.toml:rich"].version == Version("13.7.0")
    assert r["poetry.lock:httpx"].version == Version("0.27.0")
    assert r["poetry.lock:jinja2"].version == Version("2.10")
    assert r["poetry.lock:jinja2"].line == 6


def test_uv_lock_skips_the_project_itself(tmp_path: Path) -> None:
    root = write(tmp_path, {"uv.lock": """
        version = 1
        requires-python = ">=3.11"

        [[package]]
        name = "my-app"
        version = "0.1.0"
        source = { editable = "." }

        [[package]]
        name = "requests"
        version = "2.19.0"
        source = { registry = "https://pypi.org/simple" }
    """})
    r = reqs(root)
    assert set(r) == {"uv.lock:requests"}
    assert r["uv.lock:requests"].version == Version("2.19.0")
    assert r["uv.lock:requests"].line == 10


def test_pipfile_lock(tmp_path: Path) -> None:
    lock = {
        "_meta": {"hash": {"sha256": "x"}},
        "default": {"jinja2": {"hashes": [], "version": "==2.10"},
                    "mylib": {"git": "https://example.invalid/mylib.git", "ref": "abc"}},
        "develop": {"pytest": {"version": "==8.0.0"}},
    }
    root = write(tmp_path, {"Pipfile.lock": json.dumps(lock, indent=4)})
    r = reqs(root)
    assert r["Pipfile.lock:jinja2"].version == Version("2.10")
    assert r["Pipfile.lock:pytest"].version == Version("8.0.0")
    assert not r["Pipfile.lock:mylib"].pinned
    assert r["Pipfile.lock:jinja2"].line > 1


def test_a_malformed_file_is_a_note_not_a_crash(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": "[project\nname=",
                            "requirements.txt": "rich==13.7.0\n"})
    found, notes = deps.collect(load_tree(root))
    assert [r.name for r in found] == ["rich"]
    assert notes and "pyproject.toml" in notes[0]


def test_unpinned_requirements_are_low_findings_even_offline(tmp_path: Path) -> None:
    root = write(tmp_path, {"requirements.txt": "requests>=2.31\nrich==13.7.0\n"})
    findings, notes = deps.scan(load_tree(root), None)
    assert [(f.rule_id, str(f.severity), f.line) for f in findings] == [("RP-D002", "low", 1)]
    assert any(n.startswith("advisories unavailable: 1 pinned") for n in notes)


@needs_snapshot
def test_a_vulnerable_pin_is_found_with_its_fixed_version(tmp_path: Path) -> None:
    root = write(tmp_path, {"requirements.txt": "# app deps\njinja2==2.10\nrich==13.7.0\n"})
    findings, notes = deps.scan(load_tree(root), LocalAdvisories(SNAPSHOT))
    by_advisory = {f.extra["advisory"]: f for f in findings}
    f = by_advisory["PYSEC-2019-217"]
    assert (f.rule_id, f.path, f.line) == ("RP-D001", "requirements.txt", 2)
    assert f.extra["fixed_version"] == "2.10.1"
    assert "upgrade jinja2 to 2.10.1" in f.remediation
    assert "CVE-2019-10906" in f.message
    assert str(f.severity) == "high"  # no published rating: treated as high
    assert all(x.extra["package"] == "jinja2" for x in findings)  # rich is clean
    assert any("2 pinned dependencies checked" in n for n in notes)


@needs_snapshot
def test_a_safe_pin_is_clean(tmp_path: Path) -> None:
    root = write(tmp_path, {"requirements.txt": "jinja2==3.1.4\n"})
    findings, _ = deps.scan(load_tree(root), LocalAdvisories(SNAPSHOT))
    assert findings == []


@needs_snapshot
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("poetry.lock", '[[package]]\nname = "jinja2"\nversion = "2.10"\n'),
        ("uv.lock", 'version = 1\n[[package]]\nname = "jinja2"\nversion = "2.10"\n'),
        ("Pipfile.lock", '{"default": {"jinja2": {"version": "==2.10"}}}'),
        ("pyproject.toml", '[project]\nname = "a"\ndependencies = ["jinja2==2.10"]\n'),
    ],
)
def test_every_format_reaches_the_advisory_match(tmp_path: Path, name: str, text: str) -> None:
    root = write(tmp_path, {name: text})
    findings, _ = deps.scan(load_tree(root), LocalAdvisories(SNAPSHOT))
    assert {f.extra["advisory"] for f in findings} >= {"PYSEC-2019-217"}
    assert {f.path for f in findings} == {name}


# -- review 2, F8/F13: pins reached through includes, wheel names, all-vulnerable ranges --
def _osv(root: Path) -> LocalAdvisories:
    """Hand-made OSV records: pyjwt < 2.4.0 and jinja2 < 2.11.3 and flask < 2.2.5, HIGH."""
    root.mkdir()
    for i, (name, fixed) in enumerate([("pyjwt", "2.4.0"), ("jinja2", "2.11.3"),
                                       ("flask", "2.2.5")]):
        (root / f"GHSA-test-000{i}.json").write_text(json.dumps({
            "id": f"GHSA-test-000{i}", "modified": "2024-01-01T00:00:00Z",
            "summary": f"vuln in {name}",
            "affected": [{"package": {"ecosystem": "PyPI", "name": name}, "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "database_specific": {"severity": "HIGH"}}))
    return LocalAdvisories(root)


def _d001(root: Path, osv: LocalAdvisories) -> set[tuple[str, int, str]]:
    findings, _ = deps.scan(load_tree(root), osv)
    return {(f.path, f.line, f.extra["package"]) for f in findings
            if f.rule_id == "RP-D001" and str(f.severity) == "high"}


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"requirements.txt": "-r deps.in\n", "deps.in": "pyjwt==2.3.0\n"}, ("deps.in", 1)),
        ({"requirements.txt": "-c pins.txt\npyjwt\n", "pins.txt": "pyjwt==2.3.0\n"},
         ("pins.txt", 1)),
        ({"requirements.txt": "-r sub/more.cfg\n", "sub/more.cfg": "-c ../c/p\n",
          "c/p": "# pins\npyjwt==2.3.0\n"}, ("c/p", 2)),
        ({"requirements.txt": "./PyJWT-2.3.0-py3-none-any.whl\n"}, ("requirements.txt", 1)),
    ],
)
def test_vulnerable_pins_reached_any_way_pip_installs_them_are_rp_d001(
    tmp_path: Path, files: dict[str, str], where: tuple[str, int]
) -> None:
    root = write(tmp_path / "app", files)
    assert (*where, "pyjwt") in _d001(root, _osv(tmp_path / "osv"))


def test_an_excluded_include_is_still_checked(tmp_path: Path) -> None:
    root = write(tmp_path / "app", {"requirements.txt": "-r more-requirements.txt\n",
                                    "more-requirements.txt": "pyjwt==2.3.0\n"})
    tree = load_tree(root, exclude=["more-requirements.txt"])
    findings, _ = deps.scan(tree, _osv(tmp_path / "osv"))
    assert ("more-requirements.txt", "RP-D001") in {(f.path, f.rule_id) for f in findings}


def test_missing_and_cyclic_includes_are_findings(tmp_path: Path) -> None:
    root = write(tmp_path / "app", {"requirements.txt": "-r a.in\n-r gone.in\n",
                                    "a.in": "-r b.in\n", "b.in": "-r a.in\nrich==13.7.0\n"})
    findings, _ = deps.scan(load_tree(root), None)
    d003 = [f for f in findings if f.rule_id == "RP-D003"]
    assert any("gone.in is not a file of the app" in f.message for f in d003)
    assert any("cycle" in f.message for f in d003)
    assert all(str(f.severity) == "high" for f in d003)


@pytest.mark.parametrize(
    ("line", "vulnerable"),
    [
        ("Jinja2==2.10.*", True),
        ("flask~=2.0.0", True),
        ("pyjwt>=2.3.0,<=2.3.0", True),
        ("pyjwt>=2.3.0,<2.4", True),
        ("pyjwt>=2.3.0,<2.5", False),  # 2.4.x is fixed: a safe release is allowed
        ("Jinja2~=2.11.0", False),  # 2.11.3 is allowed
        ("pyjwt>=2.0", False),  # open above
        # an exclusive or absent lower bound is still a range (adv-gate3 F6)
        ("pyjwt>2.2,<2.4", True),
        ("pyjwt<2.4", True),
        ("pyjwt<=2.3.0", True),
        ("pyjwt<2.4,!=2.3.0", True),
        ("pyjwt>2.2,<2.5", False),  # 2.4.x is fixed
        ("pyjwt<2.5", False),
        ("pyjwt!=2.4.0", False),  # open above
    ],
)
def test_a_range_of_only_vulnerable_releases_is_as_severe_as_a_pin(
    tmp_path: Path, line: str, vulnerable: bool
) -> None:
    root = write(tmp_path / "app", {"requirements.txt": line + "\n"})
    found = _d001(root, _osv(tmp_path / "osv"))
    assert bool(found) is vulnerable, found
