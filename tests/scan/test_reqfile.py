"""RP-D003: what a requirements file may make the installing node do, judged by the gate."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ramparts.scan.findings import Severity
from ramparts.scan.gate import GateOptions, run_gate
from ramparts.scan.reqfile import InstallPolicy, inspect

MANIFEST = """
app: reqs
functions:
  fn:
    handler: main.py:handler
    timeout: 5s
"""
HANDLER = "def handler(event, context):\n    return 1\n"


def _app(root: Path, requirements: str, extra: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ramparts.yaml").write_text(textwrap.dedent(MANIFEST))
    (root / "main.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(textwrap.dedent(requirements).lstrip("\n"))
    for name, text in (extra or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _d003(root: Path, policy: InstallPolicy | None = None) -> list[tuple[int, str]]:
    result = run_gate(root, GateOptions(install_policy=policy or InstallPolicy()))
    found = [f for f in result.findings if f.rule_id == "RP-D003"]
    assert all(f.severity >= Severity.HIGH for f in found)
    if found:
        assert not result.passed
    return sorted((f.line, f.message) for f in found)


@pytest.mark.parametrize(
    "line, words",
    [
        ("-r ../../etc/passwd", "outside the app"),
        ("-c /etc/hosts", "outside the app"),
        ("--requirement=https://example.invalid/r.txt", "URL"),
        ("--index-url https://mirror.example.invalid/simple", "package index other"),
        ("-i https://mirror.example.invalid/simple", "package index other"),
        ("--extra-index-url https://mirror.example.invalid/simple", "package index other"),
        ("--find-links https://example.invalid/wheels/", "remote location"),
        ("-fhttps://example.invalid/wheels/", "remote location"),
        ("--trusted-host example.invalid", "certificate"),
        ("thing @ https://example.invalid/thing-1.0-py3-none-any.whl", "example.invalid"),
        ("https://example.invalid/thing-1.0.tar.gz", "example.invalid"),
        ("git+https://example.invalid/repo.git#egg=thing", "example.invalid"),
        ("-e ./lib", "editable"),
        ("./lib", "--allow-source-builds"),
        ("--no-binary :all:", "builds from source"),
        ("--only-binary=:none:", "builds from source"),
        ("thing==1.0 --config-settings x=y", "builds from source"),
        ("--index-url https://${TOKEN}@mirror.example.invalid/simple", "${VARIABLE}"),
        ("--use-feature fast-deps", "unsupported pip option"),
        # optparse would expand an unambiguous prefix to --extra-index-url: unknown is refused
        ("--extra-index=https://mirror.example.invalid/simple", "unsupported pip option"),
        ("-U thing", "unsupported pip option"),
    ],
)
def test_unsafe_lines_are_high(tmp_path: Path, line: str, words: str) -> None:
    root = _app(tmp_path, f"requests==2.32.3\n{line}\n",
                {"lib/pyproject.toml": "[build-system]\nrequires = []\n"})
    found = _d003(root)
    assert len(found) == 1, found
    assert found[0][0] == 2 and words in found[0][1], found


def test_ordinary_requirements_pass(tmp_path: Path) -> None:
    root = _app(tmp_path, """
        # comment
        requests==2.32.3 \\
            --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
        PyYAML>=6 ; python_version >= "3.8"
        --only-binary :all:
        --prefer-binary
        -r requirements/base.txt
        -c constraints.txt
        ./wheels/tiny-1.0-py3-none-any.whl
        --find-links ./wheels
    """, {"requirements/base.txt": "idna==3.7\n", "constraints.txt": "idna<4\n",
          "wheels/tiny-1.0-py3-none-any.whl": "not really a wheel"})
    assert _d003(root) == []


def test_the_nodes_own_index_and_source_builds_follow_its_policy(tmp_path: Path) -> None:
    root = _app(tmp_path, """
        --index-url https://pkgs.example.internal/simple/
        ./lib
    """, {"lib/setup.py": "raise SystemExit('would run at deploy')\n"})
    assert [w for _, w in _d003(root)] and len(_d003(root)) == 2  # the CLI's strict default
    node = InstallPolicy(package_index="https://pkgs.example.internal/simple",
                         allow_source_builds=True)
    assert _d003(root, node) == []


def test_included_files_are_judged_and_reported_once(tmp_path: Path) -> None:
    root = _app(tmp_path, "-r requirements-base.txt\n",
                {"requirements-base.txt": "--trusted-host example.invalid\n"})
    found = run_gate(root, GateOptions()).findings
    d003 = [f for f in found if f.rule_id == "RP-D003"]
    assert [(f.path, f.line) for f in d003] == [("requirements-base.txt", 1)]


def test_messages_never_quote_the_included_file(tmp_path: Path) -> None:
    secret = "hunter2-correct/horse+battery=staple"
    (tmp_path / "outside.txt").write_text(secret + "\n")
    app = _app(tmp_path / "app", "-r inner.txt\n-r ../outside.txt\n",
               {"inner.txt": secret + "\n"})
    result = run_gate(app, GateOptions())
    text = repr([f.to_dict() for f in result.findings])
    assert secret not in text and "hunter2" not in text
    assert any(f.rule_id == "RP-D003" for f in result.findings)


def test_cache_key_covers_local_sources(tmp_path: Path) -> None:
    """The same requirements text with different local content is a different install."""
    keys = []
    for name, body in (("a", "VALUE = 1\n"), ("b", "VALUE = 2\n")):
        root = _app(tmp_path / name, "./lib\n", {"lib/pkg/__init__.py": body,
                                                  "lib/pyproject.toml": "[project]\n"})
        found = inspect(root / "requirements.txt", root, InstallPolicy(allow_source_builds=True))
        assert found.problems == [] and found.source_builds
        keys.append(found.digest)
    assert keys[0] != keys[1]
    same = _app(tmp_path / "c", "./lib\n", {"lib/pkg/__init__.py": "VALUE = 1\n",
                                            "lib/pyproject.toml": "[project]\n"})
    again = inspect(same / "requirements.txt", same, InstallPolicy(allow_source_builds=True))
    assert again.digest == keys[0]  # and identical content shares one install
