"""The explain catalogue: complete for every rule the gate can emit, valid, and its examples real.

Completeness is read from the code (every ``Rule`` the scanner families and the
policy lint define, every RP id written in their source, and every bandit check
the gate leaves on), so a new rule without an entry fails here.  Each Python
example of a code rule is run through the real deploy gate: the vulnerable one
must raise its rule, the fixed one must not.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path

import pytest
import yaml

import ramparts
from ramparts.explain.catalog import entries, load_catalog, lookup
from ramparts.explain.errors import CatalogError, UnknownRule
from ramparts.scan import deps, depth, iac, logic, manifest_lint, sast, taint
from ramparts.scan import secrets as secrets_scan
from ramparts.scan.gate import GATE_RULES, POLICY_RULES, run_gate

PACKAGE = Path(ramparts.__file__).parent
CODE_FAMILIES = ("RP-T", "RP-L", "RP-S001", "RP-G001", "RP-G005", "B")
MANIFEST_FAMILIES = ("RP-M", "RP-P", "RP-S002")
# Examples that cannot be shown to fire through the gate, with the reason.
NOT_RUN: dict[str, str] = {
    "RP-S002": "the manifest schema refuses the same credential-like environment value "
    "(invalid_manifest) before the gate's own RP-S002 check can report it",
}
# The handler every manifest example's orders.py stands for (its comment says so).
ORDERS_HANDLER = """\
def handler(event, context):
    order = context.kv.get("orders", f"order-{event['id']}")
    context.publish("order-seen", {"id": event["id"]})
    return order
"""


def _bandit_ids() -> set[str]:
    with warnings.catch_warnings():  # bandit passes stevedore an argument it deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        from bandit.core import extension_loader

        manager = extension_loader.MANAGER
    every = set(manager.plugins_by_id) | set(manager.blacklist_by_id)
    return every - set(sast.DISABLED)


def _emitted_ids() -> set[str]:
    rules = [
        *taint.RULES.values(),
        *logic.RULES.values(),
        *secrets_scan.RULES,
        *deps.RULES,
        *manifest_lint.RULES,
        *iac.RULES,
        *POLICY_RULES.values(),
        *GATE_RULES.values(),
        depth.RULE,
    ]
    ids = {r.rule_id for r in rules}
    # any id written in the scanner or policy source, in case a rule is built another way
    for folder in ("scan", "policy"):
        for path in (PACKAGE / folder).rglob("*.py"):
            ids |= set(re.findall(r"\bRP-[A-Z][0-9]{3}\b", path.read_text()))
    return ids | _bandit_ids()


def test_the_shipped_catalogue_loads() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 130
    for entry in catalog.values():
        assert entry.owasp.startswith("https://") and "owasp.org" in entry.owasp
        assert entry.vulnerable.strip() != entry.fixed.strip()


def test_every_rule_the_gate_or_the_policy_lint_can_emit_has_an_entry() -> None:
    missing = sorted(_emitted_ids() - set(entries()))
    assert missing == [], f"add catalogue entries (ramparts/explain/catalog/) for {missing}"


def _is_code_rule(rule_id: str) -> bool:
    return rule_id.startswith(CODE_FAMILIES)


def test_code_rules_have_python_examples() -> None:
    wrong = [e.id for e in entries().values() if _is_code_rule(e.id) and e.language != "python"]
    assert wrong == []


def _fired(code: str) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "handler.py").write_text(code, encoding="utf-8")
        return {f.rule_id for f in run_gate(Path(tmp)).findings}


@pytest.mark.parametrize(
    "rule_id",
    sorted(i for i, e in entries().items() if _is_code_rule(i) and i not in NOT_RUN),
)
def test_vulnerable_example_fires_and_fixed_example_does_not(rule_id: str) -> None:
    entry = entries()[rule_id]
    assert rule_id in _fired(entry.vulnerable), "the vulnerable example does not raise its rule"
    assert rule_id not in _fired(entry.fixed), "the fixed example still raises its rule"


def _fired_by_manifest(text: str) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ramparts.yaml").write_text(text, encoding="utf-8")
        for fn in yaml.safe_load(text)["functions"].values():
            name = fn["handler"].split(":")[0]
            code = (
                ORDERS_HANDLER
                if name == "orders.py"
                else "def handler(event, context):\n    return {}\n"
            )
            (root / name).write_text(code, encoding="utf-8")
        return {f.rule_id for f in run_gate(root).findings}


@pytest.mark.parametrize(
    "rule_id",
    sorted(i for i in entries() if i.startswith(MANIFEST_FAMILIES) and i not in NOT_RUN),
)
def test_manifest_examples_fire_and_fixed_ones_do_not(rule_id: str) -> None:
    entry = entries()[rule_id]
    assert entry.language == "yaml"
    assert rule_id in _fired_by_manifest(entry.vulnerable)
    assert rule_id not in _fired_by_manifest(entry.fixed)


def test_the_orders_handler_in_the_test_is_the_one_the_examples_name() -> None:
    for rule_id in (i for i in entries() if i.startswith("RP-P")):
        first = entries()[rule_id].vulnerable.splitlines()[0]
        assert first == '# orders.py: context.kv.get("orders", f"order-{event[\'id\']}")'


# -- validation ---------------------------------------------------------------------------
GOOD = """\
- id: RP-A001
  title: A public route
  risk: Anyone can call it. That costs money.
  vulnerable: |
    auth: none
  fixed: |
    auth: api_key
  owasp: https://owasp.org/www-project-serverless-top-10/
  language: yaml
"""


def test_another_teams_file_is_read_and_looked_up() -> None:
    catalog = load_catalog({"audit.yaml": GOOD})
    assert lookup("rp-a001", catalog).source == "audit.yaml"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not: a list", "non-empty list"),
        ("- [1, 2]", "a mapping"),
        (GOOD.replace("  title: A public route\n", ""), "title is required"),
        (GOOD + "  severity: high\n", "unknown field(s) severity"),
        (GOOD.replace("RP-A001", "rp_a1"), "id must look like"),
        (GOOD.replace("https://owasp.org/", "https://evil.example/"), "owasp must be"),
        (GOOD.replace("https://owasp.org/", "http://owasp.org/"), "owasp must be"),
        (GOOD.replace("auth: api_key", "auth: none"), "are the same"),
        (GOOD.replace("language: yaml", "language: cobol"), "language must be"),
        (GOOD + GOOD, "already defined in audit.yaml"),
        ("- {id: [unclosed", "not valid YAML"),
    ],
)
def test_a_malformed_catalogue_is_refused_naming_file_and_entry(text: str, problem: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog({"audit.yaml": text})
    assert problem in caught.value.message and "audit.yaml" in caught.value.message


def test_the_same_id_in_two_files_is_refused() -> None:
    with pytest.raises(CatalogError, match="already defined in a.yaml"):
        load_catalog({"a.yaml": GOOD, "b.yaml": GOOD})


def test_an_unknown_id_suggests_close_ones() -> None:
    with pytest.raises(UnknownRule) as caught:
        lookup("RP-T0002")
    assert "RP-T002" in caught.value.suggestions
    with pytest.raises(UnknownRule) as caught:
        lookup("nothing-like-it")
    assert caught.value.suggestions == []
