"""``ramparts waf test`` and ``ramparts waf rules``: no node needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_app


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "waf", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_waf_test_exit_codes_and_json(tmp_path: Path) -> None:
    body = tmp_path / "req.json"
    body.write_text(json.dumps({"note": "1 UNION SELECT password FROM users"}))
    out = _cli("test", "--method", "POST", "--path", "/orders", "--body", f"@{body}",
               "--format", "json")
    assert out.returncode == 1, out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["verdict"] == "block" and verdict["blocked"]
    assert {m["location"] for m in verdict["matches"]} == {"$.note"}
    clean = _cli("test", "--path", "/orders?page=2", "--header", "User-Agent: curl/8.5")
    assert clean.returncode == 0 and "pass" in clean.stdout
    table = _cli("test", "--path", "/x", "--query", "q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert table.returncode == 1 and "xss-script-tag" in table.stdout


def test_waf_test_with_an_app_uses_its_modes_and_exclusions(tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "app",
        """
        app: clitest
        waf:
          exclusions: [{route: "POST /comments", field: "$.html", rules: [xss]}]
        functions:
          f:
            handler: h.py:handler
            triggers:
              - http: {method: POST, path: /comments, auth: none}
              - http: {method: POST, path: "/watch/{id}", auth: none, waf: detect}
        """,
        {"h.py": "def handler(event, context):\n    return 1\n"},
    )
    html = json.dumps({"html": "<script>x()</script>"})
    assert _cli("test", "--method", "POST", "--path", "/comments", "--body", html,
                "--app", str(app)).returncode == 0
    detect = _cli("test", "--method", "POST", "--path", "/watch/7", "--body", "' OR 1=1--",
                  "--app", str(app), "--format", "json")
    assert detect.returncode == 0 and json.loads(detect.stdout)["mode"] == "detect"
    missing = _cli("test", "--path", "/nowhere", "--app", str(app))
    assert missing.returncode == 2 and "no route" in missing.stderr


def test_waf_test_bad_input_names_the_problem(tmp_path: Path) -> None:
    out = _cli("test", "--path", "/x", "--body", "@/nonexistent/file.json")
    assert out.returncode == 2 and "/nonexistent/file.json" in out.stderr
    assert "Traceback" not in out.stderr
    bad = make_app(tmp_path / "bad", """
        app: badwaf
        waf: {rules: [mine.yaml]}
        functions:
          f: {handler: h.py:handler}
        """, {"h.py": "def handler(e, c):\n    return 1\n", "mine.yaml": "rules: [{id: x}]\n"})
    out = _cli("rules", "--app", str(bad))
    assert out.returncode == 2 and "mine.yaml" in out.stderr and "rules[0]" in out.stderr


def test_waf_rules_lists_the_rules() -> None:
    out = _cli("rules", "--format", "json")
    assert out.returncode == 0
    rules = json.loads(out.stdout)
    assert {"id", "category", "score", "description"} <= set(rules[0])
    assert any(r["id"] == "sqli-libinjection" for r in rules)
