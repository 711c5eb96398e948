"""Per-category true- and false-positive rates of the deploy-time scan on labelled cases.

    python bench/scan_corpus.py [--tuning-only] [--write] [--show-misses]

Runs the gate exactly as ``ramparts scan DIR`` does (``run_gate``: bandit,
taint, logic, secrets, manifest, dependencies) on

* the tuning corpus, tests/scan/taint_corpus/ (each case folder scanned on
  its own, labels read from its ``# expect:`` / ``# safe:`` comments), and
* the held-out set, tests/scan/heldout/, when it exists: labels come from its
  ``expected.json`` (a list of ``{file, line, category, cwe, vulnerable}``);
  this script reads the case files only to scan them.  A held-out file is
  scanned with the folder that holds its app: the nearest folder with a
  ``ramparts.yaml`` if any, else its second-level folder (``flask/shop/``),
  else its first-level one (``flask/``).

A vulnerable line counts as found (true positive) when the scan reports a
finding **with the line's CWE** in the same file **within one line** of it
(a call spread over lines may be reported on its first or second line); a
safe line counts as a false positive under the same test.  Findings of other
CWEs on those lines do not count either way.  Per category (one CWE each) it
prints TPR = found / vulnerable, FPR = flagged / safe and Youden = TPR - FPR,
and the mean Youden over the categories.

The same cases go through bandit alone (``bandit -r``, its default profile:
every test on), each bandit finding mapped to a category by its CWE.  Where
bandit files a weakness of our table under another CWE the mapping renames
it (``BANDIT_CWE``: the gate's own renumbering, ramparts/scan/cwe.py, printed
in the report), so bandit is not penalised for its numbering, only for what
it does not see; the gate reports bandit's findings under the same CWEs.

``--write`` replaces the ``bench:scan-corpus`` section of docs/scanning.md
(tuning and held-out tables apart).  ``--tuning-only`` never opens the
held-out folder: whoever tunes the rules runs with it, so the held-out numbers
stay a measurement of rules written without them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _doc import write_section  # noqa: E402

from ramparts.scan.cwe import BANDIT_CWE as GATE_BANDIT_CWE  # noqa: E402
from ramparts.scan.findings import Severity  # noqa: E402
from ramparts.scan.gate import run_gate  # noqa: E402
from tests.scan.corpus_marks import CORPUS, RULE_CWES, case_dirs, read_marks  # noqa: E402

HELDOUT = ROOT / "tests" / "scan" / "heldout"
DOC = ROOT / "docs" / "scanning.md"
SECTION = "scan-corpus"
BANDIT = Path(sys.executable).parent / "bandit"
TOLERANCE = 1  # lines either side of the labelled line

# bandit test id -> the CWE the gate reports it under, where bandit's own differs: the
# gate's own table (ramparts/scan/cwe.py), applied here to bandit run alone
BANDIT_CWE = GATE_BANDIT_CWE
NAMES = {
    "CWE-94": "code", "CWE-78": "command", "CWE-89": "sql", "CWE-502": "deserialize",
    "CWE-22": "path", "CWE-918": "ssrf", "CWE-1336": "template", "CWE-943": "nosql",
    "CWE-643": "xpath", "CWE-90": "ldap", "CWE-601": "redirect", "CWE-79": "xss",
    "CWE-611": "xxe", "CWE-117": "log", "CWE-501": "trust-boundary", "CWE-347": "jwt",
    "CWE-209": "error-disclosure", "CWE-732": "public-acl", "CWE-942": "cors",
    "CWE-295": "tls-verify", "CWE-798": "hardcoded-credential", "CWE-328": "weak-hash",
    "CWE-330": "weak-random", "CWE-614": "cookie-flags",
}
RULE_OF = {cwe: rule for rule, cwe in RULE_CWES.items()}


@dataclass(frozen=True)
class Item:
    """One labelled line: ``file`` is relative to the set's root."""

    file: str
    line: int
    cwe: str
    vulnerable: bool
    unit: str  # the folder (relative to the root) scanned for it


@dataclass
class Found:
    """(file relative to the set's root, line, CWE, severity) of every finding, per unit."""

    by_unit: dict[str, set[tuple[str, int, str, int]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def hit(self, item: Item, floor: Severity = Severity.LOW) -> bool:
        return any(f == item.file and c == item.cwe and abs(n - item.line) <= TOLERANCE
                   and sev >= floor for f, n, c, sev in self.by_unit.get(item.unit, ()))


# -- the two sets -------------------------------------------------------------------------------
def tuning_items() -> list[Item]:
    items = []
    for case in case_dirs(CORPUS):
        unit = case.relative_to(CORPUS).as_posix()
        items += [Item(f"{unit}/{m.path}", m.line, m.cwe, m.vulnerable, unit)
                  for m in read_marks(case)]
    return items


def heldout_items(root: Path) -> list[Item]:
    doc = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    return [Item(str(e["file"]), int(e["line"]), str(e["cwe"]).upper(), bool(e["vulnerable"]),
                 _unit_of(root, str(e["file"]))) for e in doc]


def _unit_of(root: Path, rel: str) -> str:
    parts = Path(rel).parts[:-1]
    for depth in range(len(parts), 0, -1):
        if (root.joinpath(*parts[:depth]) / "ramparts.yaml").is_file():
            return "/".join(parts[:depth])
    return "/".join(parts[:2]) if parts else "."


# -- scanning -----------------------------------------------------------------------------------
def scan_ramparts(root: Path, units: set[str]) -> Found:
    found = Found()
    for unit in sorted(units):
        base = root / unit
        prefix = "" if unit == "." else unit + "/"
        try:
            findings = run_gate(base).findings
        except Exception as exc:  # a case the gate refuses to read is a miss, and said so
            found.errors[unit] = f"{exc.__class__.__name__}: {exc}"
            findings = []
        found.by_unit[unit] = {(prefix + f.path, f.line, f.cwe or "", int(f.severity))
                               for f in findings}
    return found


def scan_bandit(root: Path, units: set[str]) -> Found:
    """bandit alone over the whole set in one run, its findings filed under each unit."""
    proc = subprocess.run([str(BANDIT), "-r", "-q", "-f", "json", "."], cwd=root,
                          capture_output=True, text=True, check=False)
    doc = json.loads(proc.stdout or "{}")
    rows: list[tuple[str, int, str, int]] = []
    for r in doc.get("results", []):
        cwe = BANDIT_CWE.get(r["test_id"]) or f"CWE-{(r.get('issue_cwe') or {}).get('id', 0)}"
        rows.append((Path(r["filename"]).as_posix().removeprefix("./"), r["line_number"], cwe,
                     int(Severity.parse(r["issue_severity"]))))
    found = Found()
    for unit in units:
        prefix = "" if unit == "." else unit + "/"
        found.by_unit[unit] = {row for row in rows if row[0].startswith(prefix)}
    for e in doc.get("errors", []):
        found.errors[Path(e["filename"]).as_posix().removeprefix("./")] = e.get("reason", "")
    return found


# -- rates --------------------------------------------------------------------------------------
@dataclass
class Rates:
    tp: int = 0
    vulnerable: int = 0
    fp: int = 0
    safe: int = 0

    @property
    def tpr(self) -> float:
        return self.tp / self.vulnerable if self.vulnerable else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / self.safe if self.safe else 0.0

    @property
    def youden(self) -> float:
        return self.tpr - self.fpr


def rates(items: list[Item], found: Found, floor: Severity) -> dict[str, Rates]:
    out: dict[str, Rates] = defaultdict(Rates)
    for item in items:
        r, hit = out[item.cwe], found.hit(item, floor)
        if item.vulnerable:
            r.vulnerable += 1
            r.tp += hit
        else:
            r.safe += 1
            r.fp += hit
    return out


def misses(items: list[Item], found: Found) -> list[str]:
    return [f"{'missed' if i.vulnerable else 'false positive'}: {i.cwe} {i.file}:{i.line}"
            for i in items if found.hit(i) != i.vulnerable]


def _order(cwe: str) -> tuple[str, str]:
    return (RULE_OF.get(cwe, "~"), cwe)


def table(items: list[Item], ours: Found, bandit: Found, floor: Severity) -> list[str]:
    mine, theirs = rates(items, ours, floor), rates(items, bandit, floor)
    lines = [
        "| rule | category | CWE | vuln | safe | ramparts TPR | FPR | Youden "
        "| bandit TPR | FPR | Youden |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cwe in sorted(mine, key=_order):
        a, b = mine[cwe], theirs[cwe]
        lines.append(
            f"| {RULE_OF.get(cwe, '-')} | {NAMES.get(cwe, '?')} | {cwe} | {a.vulnerable} "
            f"| {a.safe} | {a.tpr:.0%} | {a.fpr:.0%} | {a.youden:+.2f} | {b.tpr:.0%} "
            f"| {b.fpr:.0%} | {b.youden:+.2f} |"
        )
    n = len(mine) or 1
    mean_a = sum(r.youden for r in mine.values()) / n
    mean_b = sum(r.youden for r in theirs.values()) / n
    total_a, total_b = _total(mine.values()), _total(theirs.values())
    lines.append(
        f"| **all** | | | {total_a.vulnerable} | {total_a.safe} | **{total_a.tpr:.0%}** "
        f"| **{total_a.fpr:.0%}** | **{mean_a:+.2f}** (mean) | **{total_b.tpr:.0%}** "
        f"| **{total_b.fpr:.0%}** | **{mean_b:+.2f}** (mean) |"
    )
    return lines


def _total(rs: object) -> Rates:
    out = Rates()
    for r in rs:  # type: ignore[attr-defined]
        out.tp += r.tp
        out.vulnerable += r.vulnerable
        out.fp += r.fp
        out.safe += r.safe
    return out


def measure(
    name: str, root: Path, items: list[Item], show_misses: bool
) -> list[str]:
    units = {i.unit for i in items}
    started = time.perf_counter()
    ours = scan_ramparts(root, units)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    bandit = scan_bandit(root, units)
    bandit_s = time.perf_counter() - started
    rel = (root.relative_to(ROOT) if root.is_relative_to(ROOT) else Path(*root.parts[-3:]))
    rel = rel.as_posix()
    out = [f"### {name} ({rel}): {sum(i.vulnerable for i in items)} vulnerable and "
           f"{sum(not i.vulnerable for i in items)} safe lines in {len(units)} scanned folders",
           "", "Every finding, whatever its severity:", "",
           *table(items, ours, bandit, Severity.LOW), "",
           "Only findings at or above `high` (what blocks a deploy by default; bandit's own "
           "severity for bandit alone):", "",
           *table(items, ours, bandit, Severity.HIGH), "",
           f"Scan time: ramparts {ours_s:.1f} s ({len(units)} gate runs), bandit {bandit_s:.1f} s "
           "(one run over the set)."]
    if ours.errors:
        out.append(f"The gate refused {len(ours.errors)} folder(s), counted as misses: "
                   + "; ".join(f"{u} ({e[:80]})" for u, e in sorted(ours.errors.items())[:5]))
    if bandit.errors:
        out.append(f"bandit could not read {len(bandit.errors)} file(s) (counted as misses), "
                   "e.g. Python 3.12 syntax.")
    if show_misses:
        out += ["", "ramparts:", *misses(items, ours), "", "bandit:", *misses(items, bandit)]
    return [*out, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/scanning.md")
    parser.add_argument("--tuning-only", action="store_true",
                        help="never open tests/scan/heldout/ (for whoever tunes the rules)")
    parser.add_argument("--heldout", type=Path, default=HELDOUT,
                        help="the held-out folder (default: tests/scan/heldout)")
    parser.add_argument("--show-misses", action="store_true",
                        help="list every missed line and false positive (not written to docs)")
    args = parser.parse_args()
    started = time.perf_counter()
    report = measure("Tuning corpus", CORPUS, tuning_items(), args.show_misses)
    heldout = args.heldout.resolve()
    if not args.tuning_only and (heldout / "expected.json").is_file():
        report += measure("Held-out set", heldout, heldout_items(heldout), args.show_misses)
    elif not args.tuning_only:
        report += [f"No held-out set ({args.heldout}/expected.json is absent).", ""]
    print("\n".join(report))
    if args.write:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout.strip()
        head = [
            "## Measured detection rates",
            "",
            "Generated by `bench/scan_corpus.py --write` (this section only; re-run it). "
            f"Run on {when} on commit {commit or '?'} ({time.perf_counter() - started:.0f} s; "
            f"{os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, bandit from the dev environment; "
            f"load average {load}).",
            "",
            "A vulnerable line is found when the scan reports a finding with its CWE in the "
            f"same file within {TOLERANCE} line of it; a safe twin's line is a false positive "
            "under the same test. TPR = found / vulnerable, FPR = flagged / safe, Youden = "
            "TPR - FPR per category; the last row gives the pooled rates and the mean Youden. "
            "ramparts is the whole gate (bandit included, with the CWEs the gate reports); "
            "bandit is `bandit -r` alone with every test on, its findings mapped to our CWEs "
            "(renamed where bandit numbers the same weakness differently: "
            + ", ".join(f"{k}->{v}" for k, v in sorted(BANDIT_CWE.items())
                        if v != "CWE-611")
            + ", xml parsers B313-B319/B405-B409/B411->CWE-611).",
            "",
            "The tuning corpus (tests/scan/taint_corpus/, see its README) is the one the rules "
            "are tuned against: its rates say what the rules were made to find, not how they "
            "generalise. Only the held-out set, written by someone who never saw the rules, "
            "measures that; whoever tunes runs `bench/scan_corpus.py --tuning-only "
            "--show-misses`, which never opens it. Each tuning case folder is scanned on its "
            "own; a held-out file is scanned with its app folder (the nearest with a "
            "`ramparts.yaml`, else its second-level folder, else its first-level one: today "
            "the five framework folders).",
            "",
        ]
        write_section(DOC, SECTION, "\n".join(head + report))
        print(f"wrote the {SECTION} section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
