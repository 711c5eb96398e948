"""The control catalogue is complete and consistent, and the score follows its formula."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import ramparts
from ramparts.assess.catalog import CONTROLS, OWASP_SERVERLESS, Level
from ramparts.assess.findings import Finding, score

EXPLAIN = Path(ramparts.__file__).parent / "explain" / "catalog" / "audit.yaml"
DESIGN_CONTROLS = {
    "authentication",
    "authorization, least privilege",
    "encryption",
    "code and dependency scanning",
    "monitoring and logging",
    "DoS protection",
    "secure event sources",
    "audits and penetration tests",
    "secrets management",
    "immutable infrastructure",
    "runtime protection",
    "incident response",
}


def test_every_control_is_well_formed() -> None:
    ids = [c.id for c in CONTROLS]
    assert len(ids) == len(set(ids))
    for c in CONTROLS:
        assert re.fullmatch(r"RP-A0\d\d", c.id), c.id
        assert c.platform_control in DESIGN_CONTROLS, c.id
        assert c.owasp and set(c.owasp) <= set(OWASP_SERVERLESS), c.id
        assert c.title and c.checks and c.remediation, c.id


def test_every_control_has_an_explanation_in_the_explain_format() -> None:
    entries = yaml.safe_load(EXPLAIN.read_text())
    by_id = {e["id"]: e for e in entries}
    assert set(by_id) == {c.id for c in CONTROLS}
    for c in CONTROLS:
        entry = by_id[c.id]
        required = {"id", "title", "risk", "vulnerable", "fixed", "owasp"}
        assert set(entry) - {"language"} == required, c.id
        assert entry.get("language", "python") in ("yaml", "shell", "python"), c.id
        assert entry["title"] == c.title
        assert 2 <= entry["risk"].count(". ") + 1 <= 4, c.id  # two to four sentences
        assert entry["vulnerable"].strip() != entry["fixed"].strip()
        assert entry["owasp"].startswith("https://owasp.org/")


def test_score_is_the_weighted_share_of_passing_controls() -> None:
    total = sum(c.severity.weight for c in CONTROLS)
    assert score([]) == 100
    assert score([Finding(c.id, "r", "e") for c in CONTROLS]) == 0
    high = next(c for c in CONTROLS if c.severity is Level.HIGH)
    one = [Finding(high.id, "a", "e"), Finding(high.id, "b", "e")]  # one control, twice
    assert score(one) == round(100 * (total - Level.HIGH.weight) / total)


DOC = Path(__file__).resolve().parents[2] / "docs" / "posture-audit.md"
# DESIGN.md is the project's design contract; it is read where it is found (it lives
# outside the package), and its rows are pinned above for when it is not.
DESIGN_MD = [Path(__file__).resolve().parents[2] / "DESIGN.md", Path("/work/shared/DESIGN.md")]


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first markdown table after ``heading`` (header row excluded)."""
    after = text.split(heading, 1)[1]
    rows: list[list[str]] = []
    for line in after.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_every_design_control_row_is_audited_or_explained() -> None:
    """Each row of DESIGN.md's control table has a control mapped to it, or is listed in
    posture-audit.md as ``not auditable: REASON``; the doc's table says which."""
    for design in DESIGN_MD:
        if design.is_file():
            rows = {r[0] for r in _table_rows(design.read_text(), "## The controls")}
            assert rows == DESIGN_CONTROLS, design
    mapped: dict[str, set[str]] = {}
    for c in CONTROLS:
        mapped.setdefault(c.platform_control, set()).add(c.id)
    documented = {r[0]: r[1] for r in _table_rows(DOC.read_text(), "### Platform controls covered")}
    assert set(documented) == DESIGN_CONTROLS
    for row in sorted(DESIGN_CONTROLS):
        cell = documented[row]
        if row in mapped:
            assert set(re.findall(r"RP-A\d{3}", cell)) == mapped[row], row
        else:
            assert re.fullmatch(r"not auditable: \S.{10,}", cell), (row, cell)
