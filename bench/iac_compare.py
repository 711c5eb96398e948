"""Ramparts' template rules (RP-I...) side by side with Checkov on the same templates.

Checkov is a comparison peer, never a dependency of Ramparts.  Install it once in
its own venv (that needs the package index; the comparison itself never needs
the network):

    python -m venv /tmp/ckv && /tmp/ckv/bin/pip install checkov
    .venv/bin/python bench/iac_compare.py --checkov /tmp/ckv/bin/checkov --write

Without ``--checkov``, ``checkov`` on PATH is used.  Templates: the test twins
(tests/scan/iac/templates/) and the examples in bench/iac_templates/.  Each is
copied alone into a scratch dir under the name Ramparts and Checkov both
recognise (template.yaml / serverless.yml / NAME.json), then both tools run on
it: Ramparts through ``ramparts.scan.iac.run``, Checkov as
``checkov -f FILE --framework cloudformation serverless --skip-download -o json``.

A Ramparts finding counts as "also found by Checkov" when Checkov fails one of
the checks mapped to that rule (``MAPPING``; RP-I003 and RP-I004 share their
IAM checks) on a resource whose line range holds the finding's line.  A
Checkov failure of a mapped check with no Ramparts finding of that rule in its
range counts as "Checkov only".  Checkov
failures of checks mapped to no RP-I rule (logging, versioning, VPC, X-Ray,
...) are counted apart: they are outside what the rules set out to check.
``--write`` puts the tables into docs/scanning.md between the bench:iac-checkov
markers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._doc import write_section  # noqa: E402
from ramparts.scan import iac  # noqa: E402
from ramparts.scan.source import load_tree  # noqa: E402

CORPORA = [REPO / "tests" / "scan" / "iac" / "templates", REPO / "bench" / "iac_templates"]
DOC = REPO / "docs" / "scanning.md"

# RP-I rule -> the Checkov checks (CloudFormation and serverless frameworks) that test the
# same weakness; checkov 3.3 ids.  RP-I001 is compared with Checkov's parsing errors.
MAPPING: dict[str, tuple[str, ...]] = {
    "RP-I002": ("CKV_AWS_59", "CKV_AWS_258"),
    "RP-I003": ("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_1", "CKV_AWS_49"),
    "RP-I004": ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"),
    "RP-I005": ("CKV_AWS_20", "CKV_AWS_57"),
    "RP-I006": ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
    "RP-I007": ("CKV_AWS_19", "CKV_AWS_26", "CKV_AWS_27", "CKV_AWS_119"),
    "RP-I008": ("CKV_AWS_116",),
    "RP-I009": ("CKV_AWS_115",),
    "RP-I010": ("CKV_AWS_45", "CKV_AWS_41"),
    "RP-I011": (),
}
_RULE_OF = {ckv: rule for rule, ids in MAPPING.items() for ckv in ids}
# Checkov's IAM checks do not split "every action" from "every resource" as RP-I003/RP-I004
# do: a finding of either rule on a resource matches any of them.
_GROUP = {"RP-I004": "RP-I003"}


def same(a: str, b: str) -> bool:
    return _GROUP.get(a, a) == _GROUP.get(b, b)


def scan_name(path: Path) -> str:
    if path.name.startswith("serverless"):
        return "serverless.yml"
    return "template.json" if path.suffix == ".json" else "template.yaml"


def ours(work: Path) -> list[tuple[str, int]]:
    return [(f.rule_id, f.line) for f in iac.run(load_tree(work))]


def checkov(binary: str, target: Path) -> tuple[list[dict[str, Any]], int]:
    """Checkov's failed checks (id, line range) and its parsing-error count."""
    done = subprocess.run(
        [binary, "-f", str(target), "--framework", "cloudformation", "serverless",
         "--skip-download", "-o", "json", "--quiet", "--compact"],
        capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(),
             "BC_SKIP_MAPPING": "TRUE", "CHECKOV_SKIP_DOWNLOAD": "TRUE"},
    )
    text = done.stdout.strip()
    if not text:
        return [], 1
    doc = json.loads(text)
    reports = doc if isinstance(doc, list) else [doc]
    failed: list[dict[str, Any]] = []
    errors = 0
    for report in reports:
        if "results" not in report:
            continue
        failed += report["results"].get("failed_checks", [])
        errors += int(report.get("summary", {}).get("parsing_errors", 0))
    return failed, errors


def compare(binary: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    per_rule: dict[str, Counter[str]] = {rule: Counter() for rule in MAPPING}
    per_rule["RP-I001"] = Counter()
    theirs_only: list[tuple[str, str, str]] = []  # (template, check, resource)
    ours_seconds = theirs_seconds = 0.0
    for corpus in CORPORA:
        for path in sorted(corpus.iterdir()):
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                target = work / scan_name(path)
                shutil.copy(path, target)
                started = time.perf_counter()
                mine = ours(work)
                ours_seconds += time.perf_counter() - started
                started = time.perf_counter()
                failed, parse_errors = checkov(binary, target)
                theirs_seconds += time.perf_counter() - started
            mapped = [c for c in failed if c["check_id"] in _RULE_OF]
            for rule, line in mine:
                if rule == "RP-I001":
                    per_rule[rule]["ours"] += 1
                    per_rule[rule]["both"] += bool(parse_errors)
                    continue
                per_rule[rule]["ours"] += 1
                if any(same(_RULE_OF[c["check_id"]], rule) and _holds(c, line) for c in mapped):
                    per_rule[rule]["both"] += 1
            for c in mapped:
                rule = _RULE_OF[c["check_id"]]
                if not any(same(r, rule) and _holds(c, line) for r, line in mine):
                    per_rule[rule]["theirs_only"] += 1
                    theirs_only.append((f"{path.parent.name}/{path.name}", c["check_id"],
                                        str(c.get("resource", "?"))))
            rows.append({
                "template": f"{path.parent.name}/{path.name}",
                "ours": len(mine),
                "checkov": len(failed),
                "checkov_mapped": len(mapped),
                "checkov_other": len(failed) - len(mapped),
                "parse_errors": parse_errors,
            })
    return {"rows": rows, "per_rule": per_rule, "theirs_only": theirs_only,
            "ours_seconds": ours_seconds,
            "checkov_seconds": theirs_seconds}


def _holds(check: dict[str, Any], line: int) -> bool:
    lo, hi = check.get("file_line_range") or (0, 0)
    return lo <= line <= hi


def render(result: dict[str, Any], version: str) -> str:
    names = {r.rule_id: r.name for r in iac.RULES}
    out = [f"Checkov {version} against the RP-I rules on {len(result['rows'])} templates "
           "(bench/iac_compare.py; the test twins and bench/iac_templates/).", "",
           "| rule | what | Checkov's checks | our findings | Checkov also (same resource) "
           "| Checkov only |", "|---|---|---|---|---|---|"]
    for rule in ["RP-I001", *MAPPING]:
        counts = result["per_rule"][rule]
        checks = "parsing errors" if rule == "RP-I001" else (
            ", ".join(MAPPING[rule]) or "none")
        out.append(f"| {rule} | {names[rule]} | {checks} | {counts['ours']} | "
                   f"{counts['both']} | {counts['theirs_only']} |")
    out += ["", "| template | RP-I findings | Checkov failed checks | of which mapped to an "
            "RP-I rule | other Checkov checks |", "|---|---|---|---|---|"]
    for row in result["rows"]:
        out.append(f"| {row['template']} | {row['ours']} | {row['checkov']} | "
                   f"{row['checkov_mapped']} | {row['checkov_other']} |")
    out += ["", "Checkov-only failures of mapped checks (no RP-I finding of that rule on the "
            "resource):", "", "| template | Checkov check | resource |", "|---|---|---|"]
    out += [f"| {t} | {c} | {r} |" for t, c, r in result["theirs_only"]]
    out += ["", f"Time for all templates: RP-I {result['ours_seconds']:.2f} s, Checkov "
            f"{result['checkov_seconds']:.1f} s (one process per template, start-up "
            "included; 2 shared cores)."]
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkov", default=shutil.which("checkov"),
                   help="the checkov executable (default: checkov on PATH)")
    p.add_argument("--write", action="store_true", help="update docs/scanning.md")
    args = p.parse_args()
    if not args.checkov:
        sys.exit("checkov not found: python -m venv /tmp/ckv && /tmp/ckv/bin/pip install "
                 "checkov, then --checkov /tmp/ckv/bin/checkov")
    version = subprocess.run([args.checkov, "--version"], capture_output=True, text=True,
                             timeout=300).stdout.strip()
    text = render(compare(args.checkov), version)
    print(text)
    if args.write:
        write_section(DOC, "iac-checkov", text)


if __name__ == "__main__":
    main()
