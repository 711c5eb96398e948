"""OSV matching with packaging semantics, and the three advisory sources.

The directory source reads the shared snapshot of the PyPA advisory database
(../shared/advisories/pypa/vulns, CC-BY-4.0); the zip source reads an OSV
JSON export built from the same records.  No test touches the network: the
API source is pointed at a closed loopback port to prove it fails gracefully.
"""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from ramparts.scan.advisories import (
    SYNC_FILE,
    AdvisoriesUnavailable,
    LocalAdvisories,
    OsvApi,
    open_source,
    parse_record,
)
from ramparts.scan.errors import ScanError
from ramparts.scan.findings import Severity
from tests.conftest import OSV_SNAPSHOT

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = OSV_SNAPSHOT
needs_snapshot = pytest.mark.skipif(
    not SNAPSHOT.is_dir(), reason=f"the shared OSV snapshot is not at {SNAPSHOT}"
)


def record(events: list[dict[str, str]], **extra: object) -> dict[str, object]:
    return {
        "id": "TEST-1",
        "summary": "a test advisory",
        "affected": [
            {
                "package": {"name": "Demo_Pkg", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                **extra,
            }
        ],
    }


def affects(rec: dict[str, object], version: str) -> bool:
    (adv,) = parse_record(rec)
    return adv.affects(Version(version))


def test_introduced_and_fixed_bound_a_half_open_range() -> None:
    rec = record([{"introduced": "1.2"}, {"fixed": "1.4.1"}])
    assert not affects(rec, "1.1.9")
    assert affects(rec, "1.2")
    assert affects(rec, "1.4.0")
    assert not affects(rec, "1.4.1")
    assert not affects(rec, "2.0")


def test_versions_compare_by_packaging_rules_not_as_strings() -> None:
    rec = record([{"introduced": "0"}, {"fixed": "1.10"}])
    assert affects(rec, "1.9")  # "1.9" > "1.10" as strings, not as versions
    assert not affects(rec, "1.10.0")
    assert affects(rec, "1.10rc1")  # a pre-release comes before its release


def test_last_affected_is_inclusive() -> None:
    rec = record([{"introduced": "0"}, {"last_affected": "2.0.3"}])
    assert affects(rec, "2.0.3")
    assert not affects(rec, "2.0.4")
    (adv,) = parse_record(rec)
    assert adv.fixed_for(Version("2.0.3")) is None


def test_several_introduced_fixed_pairs_in_one_range() -> None:
    rec = record([{"introduced": "1.0"}, {"fixed": "1.1"}, {"introduced": "2.0"},
                  {"fixed": "2.2"}])
    assert affects(rec, "1.0.5")
    assert not affects(rec, "1.5")
    assert affects(rec, "2.1")
    (adv,) = parse_record(rec)
    assert adv.fixed_for(Version("2.1")) == "2.2"
    assert adv.fixed_for(Version("1.0.5")) == "1.1"


def test_an_explicit_versions_list_counts_without_a_range() -> None:
    rec = {"id": "TEST-2", "affected": [{"package": {"name": "demo-pkg", "ecosystem": "PyPI"},
                                         "versions": ["3.0", "3.1"]}]}
    assert affects(rec, "3.1")
    assert not affects(rec, "3.2")


def test_withdrawn_other_ecosystems_and_git_ranges_are_ignored() -> None:
    withdrawn = {**record([{"introduced": "0"}]), "withdrawn": "2024-01-01T00:00:00Z"}
    assert parse_record(withdrawn) == []
    npm = record([{"introduced": "0"}])
    npm["affected"][0]["package"]["ecosystem"] = "npm"  # type: ignore[index]
    assert parse_record(npm) == []
    git = {"id": "T", "affected": [{"package": {"name": "demo-pkg", "ecosystem": "PyPI"},
                                    "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}]}
    (adv,) = parse_record(git)
    assert not adv.affects(Version("1.0"))


def test_names_are_canonicalised() -> None:
    (adv,) = parse_record(record([{"introduced": "0"}]))
    assert adv.package == "demo-pkg"


@pytest.mark.parametrize(
    ("extra", "expected", "known"),
    [
        ({"database_specific": {"severity": "MODERATE"}}, Severity.MEDIUM, True),
        ({"database_specific": {"severity": "CRITICAL"}}, Severity.CRITICAL, True),
        ({"severity": [{"type": "CVSS_V3",
                        "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N"}]},
         Severity.LOW, True),
        ({"severity": [{"type": "CVSS_V3",
                        "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]},
         Severity.CRITICAL, True),
        ({}, Severity.HIGH, False),  # unknown: fail closed
    ],
)
def test_severity_comes_from_the_advisory(extra: dict, expected: Severity, known: bool) -> None:
    (adv,) = parse_record({**record([{"introduced": "0"}]), **extra})
    assert adv.severity == expected
    assert adv.severity_known is known


@needs_snapshot
def test_the_snapshot_directory_finds_a_known_vulnerable_pin_and_its_fix() -> None:
    source = LocalAdvisories(SNAPSHOT)
    found = source.match([("jinja2", Version("2.10")), ("jinja2", Version("3.1.4"))])
    vulnerable = {a.id: a.fixed_for(Version("2.10")) for a in found[("jinja2", Version("2.10"))]}
    assert vulnerable["PYSEC-2019-217"] == "2.10.1"  # CVE-2019-10906, sandbox escape
    assert vulnerable["PYSEC-2021-66"] == "2.11.3"
    assert found[("jinja2", Version("3.1.4"))] == []


@needs_snapshot
def test_an_osv_export_zip_answers_like_the_directory(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((SNAPSHOT / "jinja2").glob("*.yaml")) + sorted(
            (SNAPSHOT / "pyyaml").glob("*.yaml")
        ):
            data = yaml.safe_load(path.read_text())
            zf.writestr(f"{data['id']}.json", json.dumps(data))  # the export's shape
    from_zip = LocalAdvisories(archive).match([("jinja2", Version("2.10")),
                                               ("pyyaml", Version("5.3"))])
    from_dir = LocalAdvisories(SNAPSHOT).match([("jinja2", Version("2.10")),
                                                ("pyyaml", Version("5.3"))])
    for pin, advisories in from_dir.items():
        assert sorted(a.id for a in from_zip[pin]) == sorted(a.id for a in advisories)
    assert {a.id for a in from_zip[("pyyaml", Version("5.3"))]} >= {"PYSEC-2021-142"}


def test_a_missing_path_or_a_non_zip_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError, match="no such file"):
        LocalAdvisories(tmp_path / "nope")
    junk = tmp_path / "junk.txt"
    junk.write_text("not a zip")
    with pytest.raises(ScanError, match="not a directory or a zip"):
        LocalAdvisories(junk)


def test_a_directory_without_records_is_unavailable_not_clean(tmp_path: Path) -> None:
    with pytest.raises(AdvisoriesUnavailable, match="no OSV records"):
        LocalAdvisories(tmp_path).match([("jinja2", Version("2.10"))])


def test_an_unreachable_osv_api_fails_gracefully() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = OsvApi(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(AdvisoriesUnavailable, match="could not be reached"):
        api.match([("jinja2", Version("2.10"))])


def test_source_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAMPARTS_ADVISORIES", raising=False)
    explicit = tmp_path / "osv"
    explicit.mkdir()
    assert isinstance(open_source(explicit, tmp_path), LocalAdvisories)
    assert isinstance(open_source(None, tmp_path), OsvApi)
    assert open_source(None, tmp_path, offline=True) is None
    synced = tmp_path / SYNC_FILE
    synced.parent.mkdir(parents=True)
    with zipfile.ZipFile(synced, "w") as zf:
        zf.writestr("X.json", "{}")
    src = open_source(None, tmp_path, offline=True)
    assert isinstance(src, LocalAdvisories) and src.path == synced
    monkeypatch.setenv("RAMPARTS_ADVISORIES", "off")
    assert open_source(None, tmp_path) is None
    monkeypatch.setenv("RAMPARTS_ADVISORIES", str(explicit))
    src = open_source(None, tmp_path)
    assert isinstance(src, LocalAdvisories) and src.path == explicit
