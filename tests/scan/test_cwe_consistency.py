"""One weakness, one CWE: across every bandit rule the gate can report and every RP- rule.

``WEAKNESSES`` classifies every rule of the gate by the weakness it reports;
the tests check that the table covers bandit's whole rule list (as installed)
and our whole rule catalogue, that each weakness has one CWE and each CWE one
weakness, and that a real gate run gives the same line, flagged by bandit and
by our rules, one CWE.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import warnings
from pathlib import Path

from ramparts.scan import cwe, deps, depth, embedded, iac, logic, manifest_lint, sast, taint
from ramparts.scan import secrets as secrets_scan
from ramparts.scan.gate import GATE_RULES, POLICY_RULES, run_gate

XML = {f"B{n}" for n in (*range(313, 320), *range(405, 410), 411)}

# weakness -> (its CWE, every rule that reports it)
WEAKNESSES: dict[str, tuple[str, set[str]]] = {
    "code injection": ("CWE-94", {"B102", "B307", "B612", "RP-T001", "RP-G005"}),
    "OS command injection": ("CWE-78", {"B404", "B601", "B602", "B603", "B604", "B605",
                                        "B606", "RP-T002"}),
    "untrusted search path": ("CWE-426", {"B607"}),
    "SQL injection": ("CWE-89", {"B608", "B610", "B611", "RP-T003"}),
    "unsafe deserialisation": ("CWE-502", {"B301", "B302", "B403", "B506", "B614", "RP-T004"}),
    "path traversal": ("CWE-22", {"B202", "RP-T005"}),
    "SSRF": ("CWE-918", {"B310", "RP-T006"}),
    "template injection": ("CWE-1336", {"RP-T007"}),
    "NoSQL injection": ("CWE-943", {"RP-T008"}),
    "XPath injection": ("CWE-643", {"RP-T009"}),
    "LDAP injection": ("CWE-90", {"RP-T010"}),
    "open redirect": ("CWE-601", {"RP-T011"}),
    "XSS": ("CWE-79", {"B308", "B701", "B702", "B703", "B704", "RP-T012"}),
    "XML external entities": ("CWE-611", XML | {"RP-T013"}),
    "log injection": ("CWE-117", {"RP-T014"}),
    "trust boundary violation": ("CWE-501", {"RP-T015"}),
    "JWT signature not verified": ("CWE-347", {"RP-L001"}),
    "error text disclosed": ("CWE-209", {"RP-L002"}),
    "permissions too wide": ("CWE-732", {"B103", "RP-L003", "RP-M003", "RP-P001", "RP-P002",
                                         "RP-I003", "RP-I004", "RP-I005", "RP-I006"}),
    "permissive CORS": ("CWE-942", {"RP-L004"}),
    "certificate not verified": ("CWE-295", {"B323", "B501", "B507", "RP-L005"}),
    "hardcoded credential": ("CWE-798", {"B105", "B106", "B107", "RP-L006", "RP-S001",
                                         "RP-S002", "RP-I010"}),
    "weak hash": ("CWE-328", {"B303", "B324", "RP-L007"}),
    "weak random": ("CWE-330", {"B311", "RP-L008"}),
    "cookie without Secure/HttpOnly": ("CWE-614", {"RP-L009"}),
    "broken cipher or protocol": ("CWE-327", {"B304", "B305", "B413", "B502", "B503", "B504"}),
    "key too short": ("CWE-326", {"B505"}),
    "cleartext protocol": ("CWE-319", {"B312", "B321", "B401", "B402", "B415", "B508", "B509"}),
    "insecure temporary file": ("CWE-377", {"B306"}),
    "binding every interface": ("CWE-1327", {"B104"}),
    "active debug code": ("CWE-489", {"B201"}),
    "exceptions unchecked": ("CWE-703", {"B101", "B110", "B112"}),
    "no timeout": ("CWE-400", {"B113", "RP-M005", "RP-I011"}),
    "wildcard injection": ("CWE-155", {"B609"}),
    "httpoxy": ("CWE-284", {"B412"}),
    "trojan source": ("CWE-838", {"B613"}),
    "download without integrity check": ("CWE-494", {"B615"}),
    "missing authentication": ("CWE-306", {"RP-M001", "RP-I002"}),
    "no rate or concurrency limit": ("CWE-770", {"RP-M002", "RP-I009"}),
    "webhook signature not verified": ("CWE-345", {"RP-M004"}),
    "failures dropped": ("CWE-755", {"RP-M006", "RP-I008"}),
    "protection turned off": ("CWE-693", {"RP-M007"}),
    "privilege escalation": ("CWE-269", {"RP-P003"}),
    "privileges not dropped": ("CWE-272", {"RP-P004", "RP-P005"}),
    "vulnerable dependency": ("CWE-1395", {"RP-D001"}),
    "unpinned dependency": ("CWE-1357", {"RP-D002"}),
    "untrusted install source": ("CWE-829", {"RP-D003"}),
    "no encryption at rest": ("CWE-311", {"RP-I007"}),
}
# rules about the scan itself (a file not checked, a call the role does not allow): no CWE
NO_CWE = {"RP-G001", "RP-G002", "RP-G003", "RP-G004", "RP-I001", "RP-P006"}


def _bandit_cwes() -> dict[str, str]:
    """Every bandit test id the gate runs, with bandit's own CWE."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from bandit.core import extension_loader, issue
    manager = extension_loader.MANAGER
    out: dict[str, str] = {}
    for test_id, plugin in manager.plugins_by_id.items():
        source = inspect.getsource(inspect.getmodule(plugin.plugin))
        names = set(re.findall(r"cwe=issue\.Cwe\.(\w+)", source))
        assert len(names) == 1, (test_id, names)
        out[test_id] = f"CWE-{getattr(issue.Cwe, names.pop())}"
    for entries in manager.blacklist.values():
        for entry in entries:
            out[entry["id"]] = f"CWE-{int(entry['cwe'])}"
    for test_id in sast.DISABLED:
        out.pop(test_id)
    return out


def _our_rules() -> dict[str, str | None]:
    rules = [*taint.RULES.values(), *logic.RULES.values(), *secrets_scan.RULES, *deps.RULES,
             *manifest_lint.RULES, *POLICY_RULES.values(), *GATE_RULES.values(), *iac.RULES,
             embedded.RULE, depth.RULE]
    return {r.rule_id: r.cwe for r in rules}


def test_the_table_gives_one_cwe_per_weakness_and_one_weakness_per_cwe() -> None:
    cwes = [c for c, _ in WEAKNESSES.values()]
    assert len(cwes) == len(set(cwes))
    seen: dict[str, str] = {}
    for weakness, (_, rules) in WEAKNESSES.items():
        for rule in rules:
            assert rule not in seen, f"{rule} is under {seen[rule]} and {weakness}"
            seen[rule] = weakness


def test_every_bandit_rule_reports_its_weaknesses_cwe() -> None:
    expected = {rule: c for c, rules in WEAKNESSES.values() for rule in rules}
    bandit = _bandit_cwes()
    assert "B324" in bandit and "B108" not in bandit
    unclassified = sorted(set(bandit) - set(expected))
    assert not unclassified, f"bandit rules missing from WEAKNESSES: {unclassified}"
    wrong = {t: (cwe.for_bandit(t, c), expected[t]) for t, c in bandit.items()
             if cwe.for_bandit(t, c) != expected[t]}
    assert not wrong, f"bandit rule: (the gate's CWE, the weakness's CWE): {wrong}"
    # every renumbering is of a rule bandit has, and changes something
    assert not set(cwe.BANDIT_CWE) - set(bandit)
    assert all(bandit[t] != c for t, c in cwe.BANDIT_CWE.items() if t in bandit)


def test_every_rp_rule_reports_its_weaknesses_cwe() -> None:
    expected = {rule: c for c, rules in WEAKNESSES.values() for rule in rules}
    ours = _our_rules()
    unclassified = sorted(set(ours) - set(expected) - NO_CWE)
    assert not unclassified, f"RP- rules missing from WEAKNESSES: {unclassified}"
    assert {r: c for r, c in ours.items() if r in NO_CWE} == dict.fromkeys(NO_CWE)
    wrong = {r: (c, expected[r]) for r, c in ours.items() if r not in NO_CWE and c != expected[r]}
    assert not wrong, f"rule: (its CWE, the weakness's CWE): {wrong}"
    listed = {rule for _, rules in WEAKNESSES.values() for rule in rules}
    stale = sorted(r for r in listed if r.startswith("RP-") and r not in ours)
    assert not stale, f"WEAKNESSES names rules the gate does not have: {stale}"


APP = '''\
import hashlib
import urllib.request
from xml.dom import minidom

from mako.template import Template


def handler(event, context):
    password = event["password"]
    digest = hashlib.md5(password.encode()).hexdigest()
    page = urllib.request.urlopen(event["url"]).read()
    doc = minidom.parseString(event["body"])
    html = Template("<p>${name}</p>").render(name=event["name"])
    return {"digest": digest, "page": len(page), "doc": doc.toxml(), "html": html}
'''
# line -> the one CWE every finding on it must carry, and the rules that must be there
LINES = {
    3: ("CWE-611", {"B408"}),
    10: ("CWE-328", {"B324", "RP-L007"}),
    11: ("CWE-918", {"B310", "RP-T006"}),
    12: ("CWE-611", {"B318", "RP-T013"}),
    13: ("CWE-79", {"B702"}),
}


def test_a_line_flagged_by_bandit_and_by_our_rules_has_one_cwe(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    result = run_gate(tmp_path)
    by_line: dict[int, list[tuple[str, str | None]]] = {}
    for f in result.findings:
        if f.path == "app.py":
            by_line.setdefault(f.line, []).append((f.rule_id, f.cwe))
    for line, (want, rules) in LINES.items():
        found = by_line.get(line, [])
        assert rules <= {r for r, _ in found}, (line, found)
        assert {c for _, c in found} == {want}, (line, found)
