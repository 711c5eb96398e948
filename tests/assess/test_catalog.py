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
        assert set(entry) == {"id", "title", "risk", "vulnerable", "fixed", "owasp"}, c.id
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
