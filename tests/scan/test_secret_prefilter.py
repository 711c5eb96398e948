"""The line prefilter in front of detect-secrets never drops or moves a finding."""

from __future__ import annotations

from pathlib import Path

import yaml
from detect_secrets.core import scan as ds_scan
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.settings import default_settings, get_plugins

from ramparts.scan import secret_prefilter

TESTS = Path(__file__).resolve().parents[1]
SECRETS_CORPUS = TESTS / "scan" / "corpus" / "secrets"


def _files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def _found(scan: object, files: list[Path]) -> list[tuple[str, int, str, str]]:
    return [(s.filename, s.line_number, s.type, s.secret_hash)
            for f in files for s in scan(str(f))]  # type: ignore[operator]


def test_the_gate_finds_exactly_what_detect_secrets_finds_over_a_real_corpus() -> None:
    import detect_secrets

    files = _files(TESTS / "scan", Path(yaml.__file__).parent,
                   Path(detect_secrets.__file__).parent / "plugins")
    assert len(files) > 500
    with default_settings():
        assert secret_prefilter.line_gate() is not None  # the gate is really on
        plain = _found(ds_scan.scan_file, files)
        gated = _found(secret_prefilter.scan_file, files)
    assert len(plain) > 50  # the corpus really has findings
    assert gated == plain


def test_every_secret_case_of_the_corpus_is_still_found() -> None:
    files = _files(SECRETS_CORPUS)
    with default_settings():
        plain = _found(ds_scan.scan_file, files)
        gated = _found(secret_prefilter.scan_file, files)
    assert {Path(f).name for f, *_ in plain if "_vuln" in f} == {
        f.name for f in files if "_vuln" in f.name}
    assert gated == plain


def test_a_secret_among_skipped_lines_keeps_its_line_number(tmp_path: Path) -> None:
    body = ["x = compute(1)\n"] * 500
    body[300] = 'aws_key = "AKIAIOSFODNN7EXAMPLQ"\n'
    body[400] = "password = 'hunter2-Quite-Long'\n"
    path = tmp_path / "app.py"
    path.write_text("".join(body))
    with default_settings():
        plain = _found(ds_scan.scan_file, [path])
        gated = _found(secret_prefilter.scan_file, [path])
    assert {line for _, line, *_ in gated} == {301, 401}
    assert gated == plain


class _Unknown(BasePlugin):
    secret_type = "Unknown"

    def analyze_string(self, string: str):  # type: ignore[no-untyped-def]
        yield from ()


def test_a_plugin_the_gate_does_not_know_turns_it_off() -> None:
    with default_settings():
        known = list(get_plugins())
        assert secret_prefilter.line_gate(known) is not None
        assert secret_prefilter.line_gate([*known, _Unknown()]) is None
    assert secret_prefilter.could_match("nothing here", None)
