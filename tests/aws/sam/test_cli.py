"""``ramparts import``: what it writes, when it refuses, and that a refusal writes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.aws.sam import templates as T


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "import", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )


def _app(root: Path, template: str = T.HELLO_WORLD,
         code: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "template.yaml").write_text(template)
    for rel, text in (T.HELLO_WORLD_CODE if code is None else code).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root / "template.yaml"


def test_writes_ramparts_yaml_beside_the_template(tmp_path: Path) -> None:
    template = _app(tmp_path / "sam-app")
    r = _run(str(template))
    assert r.returncode == 0, r.stderr
    written = tmp_path / "sam-app" / "ramparts.yaml"
    assert yaml.safe_load(written.read_text())["app"] == "sam-app"
    assert "hello-world-function" in r.stdout and "http GET /hello" in r.stdout
    assert f"wrote {written}" in r.stdout
    assert "Outputs" in r.stdout  # the gaps are printed too


def test_relative_path_and_app_option(tmp_path: Path) -> None:
    _app(tmp_path / "proj")
    r = _run("template.yaml", "--app", "greeter", cwd=tmp_path / "proj")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load((tmp_path / "proj" / "ramparts.yaml").read_text())["app"] == "greeter"


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    template = _app(tmp_path / "keep")
    existing = tmp_path / "keep" / "ramparts.yaml"
    existing.write_text("app: mine\n")
    r = _run(str(template))
    assert r.returncode == 1
    assert str(existing) in r.stderr and "--force" in r.stderr
    assert existing.read_text() == "app: mine\n"
    r = _run(str(template), "--force")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(existing.read_text())["app"] == "keep"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Resources: [oops", ["template.yaml", "line 1", "invalid YAML"]),
        ("AWSTemplateFormatVersion: '2010-09-09'\n", ["template.yaml", "Resources",
                                                      "no resources"]),
        ("Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         "      CodeUri: hello_world/\n      Runtime: python3.11\n",
         ["template.yaml", "Resources.Hello.Properties.Handler", "needs a Handler"]),
        ("Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         "      Handler: !ImportValue other-stack-handler\n",
         ["template.yaml", "Resources.Hello.Properties.Handler", "another stack"]),
        ("Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         "      Handler: app.handler\n      Events:\n        A:\n          Type: Api\n"
         "          Properties: {Path: /a, Method: get}\n        B:\n          Type: Api\n"
         "          Properties: {Path: 'no-slash', Method: get}\n",
         ["template.yaml", "Resources.Hello.Events.B.Properties", "http.path"]),
    ],
)
def test_bad_templates_exit_non_zero_and_write_nothing(
    tmp_path: Path, template: str, expected: list[str]
) -> None:
    path = _app(tmp_path / "bad", template, {})
    r = _run(str(path))
    assert r.returncode == 1
    for part in expected:
        assert part in r.stderr, (part, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "bad" / "ramparts.yaml").exists()
    assert [p.name for p in (tmp_path / "bad").iterdir()] == ["template.yaml"]


def test_missing_template_and_bad_app_name(tmp_path: Path) -> None:
    r = _run(str(tmp_path / "nope.yaml"))
    assert r.returncode == 1 and "nope.yaml" in r.stderr and "file not found" in r.stderr
    template = _app(tmp_path / "named")
    r = _run(str(template), "--app", "Bad_Name")
    assert r.returncode == 1 and "--app" in r.stderr
    assert not (tmp_path / "named" / "ramparts.yaml").exists()


def test_a_handler_ramparts_cannot_import_names_the_handler_field(tmp_path: Path) -> None:
    # Lambda imports hyphenated module files; Ramparts' loader needs Python identifiers
    template = ("Resources:\n  Start:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      CodeUri: src/\n      Handler: start-job.lambda_handler\n"
                "      Runtime: python3.12\n")
    path = _app(tmp_path / "hyphen", template, {"src/start-job.py": "def lambda_handler(e, c):\n"
                                                "    return 1\n"})
    r = _run(str(path))
    assert r.returncode == 1
    assert "Resources.Start.Properties.Handler" in r.stderr and "start-job" in r.stderr
    assert not (tmp_path / "hyphen" / "ramparts.yaml").exists()


def test_only_unsupported_functions_says_why(tmp_path: Path) -> None:
    template = ("Resources:\n  Img:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      PackageType: Image\n      ImageUri: app:latest\n")
    r = _run(str(_app(tmp_path / "img", template, {})))
    assert r.returncode == 1
    assert "Resources:" in r.stderr and "container image" in r.stderr


def _alias_bomb(levels: int = 10) -> str:
    """A kilobyte of YAML whose aliases expand to 10**levels strings (adversarial review)."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines += [
        "Resources:",
        "  Fn:",
        "    Type: AWS::Serverless::Function",
        "    Properties:",
        "      Handler: app.handler",
        "      Runtime: python3.11",
        "      Environment:",
        "        Variables:",
        f"          BOOM: !Join ['', *a{levels - 1}]",
    ]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    path = _app(tmp_path / "bomb", _alias_bomb(), {"app.py": "def handler(e, c):\n    return 1\n"})
    r = _run(str(path))  # the 120 s timeout is the hang this guards against
    assert r.returncode == 1, r.stderr
    assert str(path) in r.stderr and "aliases are expanded" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "bomb" / "ramparts.yaml").exists()


def test_a_huge_substituted_variable_is_dropped_quickly_not_hung_on(tmp_path: Path) -> None:
    # second adversarial review: 9 KB of JSON whose !Sub grew to 2 MB hung the importer
    import json

    template = {
        "Parameters": {"A": {"Type": "String", "Default": "x" * 1000}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "Runtime": "python3.11",
                    "Environment": {"Variables": {"BIG": {"Fn::Sub": "${A}" * 2000}}},
                },
            }
        },
    }
    root = tmp_path / "big"
    root.mkdir()
    (root / "template.json").write_text(json.dumps(template))
    (root / "app.py").write_text("def handler(e, c):\n    return 1\n")
    r = _run(str(root / "template.json"))  # the 120 s timeout is the hang this guards against
    assert r.returncode == 0, r.stderr
    assert "4 KB environment limit" in r.stdout + r.stderr
    written = yaml.safe_load((root / "ramparts.yaml").read_text())
    (function,) = written["functions"].values()
    assert "BIG" not in (function.get("environment") or {})
