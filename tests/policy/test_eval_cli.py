"""``ramparts policy eval --cases``: AWS's documented examples give AWS's answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.policy.aws_cases import CASES


def run_eval(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "policy", "eval", "--cases", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_aws_documented_examples(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c, _ in CASES) + "\n")
    done = run_eval(cases)
    assert done.returncode == 0, done.stdout + done.stderr
    got = done.stdout.splitlines()
    expected = [answer for _, answer in CASES]
    mismatches = [
        (i, c["action"], c["resource"], e, g)
        for i, ((c, e), g) in enumerate(zip(CASES, got, strict=True))
        if e != g
    ]
    assert not mismatches
    assert got == expected


def test_a_malformed_case_is_reported_on_its_line(tmp_path: Path) -> None:
    good = {"policies": [], "action": "kv:GetItem", "resource": "*"}
    bad = {
        "policies": [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}],
            }
        ],
        "action": "kv:GetItem",
        "resource": "*",
    }
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n{not json\n")
    done = run_eval(cases)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "ImplicitlyDenied"
    assert lines[1] == "Error: line 2: policies[0].Statement[0].Effect: must be Allow or Deny"
    assert lines[2].startswith("Error: line 3:")
