"""Detection and false-positive rates of the default WAF rules on labelled corpora.

    python bench/waf_corpus.py [--tuning-only] [--split all|tune|test] [--write] [--show-misses]

Runs the engine (no node) on tests/gateway/waf_corpora/tuning/ and, when it
exists, tests/gateway/waf_corpora/heldout/, and prints one table each: the
share of attacks blocked per category, and of benign requests blocked per
kind.  ``--write`` puts the tables into docs/waf.md between
``<!-- corpus:begin -->`` and ``<!-- corpus:end -->``.  The tuning corpus is
the one the rules were written against; only the held-out one (assembled by
someone who never saw the rules) says how they generalise.

``--tuning-only`` never touches a held-out directory (``heldout*``): whoever
tunes the rules runs with it, so the held-out numbers stay a measurement of
rules written without them.  With ``--write`` it replaces only the tuning
table in docs/waf.md and keeps any held-out tables there as they are.

``--split tune`` leaves out the tuning items marked ``"split": "tune-test"`` (a
seeded 30% of the newest batch, see tuning/batch4.py); whoever tunes works
with it and measures the held-back part once, at the end, with ``--split test``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ramparts.gateway.waf.corpus import Rates, evaluate, load  # noqa: E402
from ramparts.gateway.waf.engine import Waf  # noqa: E402

CORPORA = ROOT / "tests" / "gateway" / "waf_corpora"
DOC = ROOT / "docs" / "waf.md"
BEGIN, END = "<!-- corpus:begin -->", "<!-- corpus:end -->"


def _table(title: str, rates: Rates, what: str) -> list[str]:
    lines = [f"| {title} | {what} | of | rate |", "|---|---:|---:|---:|"]
    for group in sorted(rates.total):
        hit, total = rates.count(group)
        lines.append(f"| {group} | {hit} | {total} | {rates.rate(group):.1%} |")
    hit, total = rates.count()
    lines.append(f"| **all** | **{hit}** | **{total}** | **{rates.rate():.1%}** |")
    return lines


def _items(path: Path, split: str) -> list[dict[str, Any]]:
    """The items of one file in ``split``: all, tune (not held back) or test (held back)."""
    items = load(path)
    if split == "all":
        return items
    want = "tune-test" if split == "test" else "tune"
    return [item for item in items if item.get("split", "tune") == want]


def report(name: str, directory: Path, waf: Waf, split: str = "all") -> list[str]:
    attacks = evaluate(waf, _items(directory / "attacks.jsonl", split), attacks=True)
    benign = evaluate(waf, _items(directory / "benign.jsonl", split), attacks=False)
    part = "" if split == "all" else f", split {split}"
    out = [f"### {name} corpus ({directory.relative_to(ROOT).as_posix()}{part})", ""]
    out += _table("attack category", attacks, "blocked")
    out += [""]
    out += _table("benign kind", benign, "blocked (false positives)")
    out += ["", f"Detection {attacks.rate():.1%} (target >= 95%), false positives "
            f"{benign.rate():.1%} (target <= 1%).", ""]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/waf.md")
    parser.add_argument("--show-misses", action="store_true", help="list wrong items")
    parser.add_argument(
        "--tuning-only", action="store_true", help="skip every held-out corpus (for tuning)"
    )
    parser.add_argument(
        "--split", choices=("all", "tune", "test"), default="all",
        help="tuning items: all, those tuned on, or the held-back tune-test part",
    )
    args = parser.parse_args()
    waf = Waf()
    lines: list[str] = []
    names = ["tuning"] if args.tuning_only else ["tuning", *_heldout_names()]
    for name in names:
        directory = CORPORA / name
        if (directory / "attacks.jsonl").is_file() and (directory / "benign.jsonl").is_file():
            split = args.split if name == "tuning" else "all"
            lines += report(name, directory, waf, split)
            if args.show_misses:
                for kind in (True, False):
                    file = "attacks.jsonl" if kind else "benign.jsonl"
                    rates = evaluate(waf, _items(directory / file, split), attacks=kind)
                    for item_id, verdict in rates.wrong:
                        print(name, item_id, verdict.score, [m.rule for m in verdict.matches])
        else:
            lines += [f"### {name} corpus", "", "(not present in this checkout)", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = DOC.read_text()
        start, end = doc.find(BEGIN), doc.find(END)
        if start < 0 or end < start:
            print(f"{DOC}: markers {BEGIN} ... {END} not found", file=sys.stderr)
            return 2
        if args.tuning_only:
            text = _keep_heldout(doc[start + len(BEGIN) : end], text)
        DOC.write_text(doc[: start + len(BEGIN)] + "\n" + text + "\n" + doc[end:])
    return 0


def _heldout_names() -> list[str]:
    """``heldout``, ``heldout2``, ...: every held-out corpus directory, by name only."""
    found = sorted(p.name for p in CORPORA.glob("heldout*") if p.is_dir())
    return found or ["heldout"]


def _keep_heldout(old: str, tuning: str) -> str:
    """The new tuning section followed by the held-out sections already in the doc."""
    start = old.find("### heldout")
    kept = old[start:].strip() if start >= 0 else ""
    return tuning.rstrip() + ("\n\n" + kept if kept else "") + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
