"""Files nested too deeply for a scanner: a high finding naming the file (RP-G004).

Python parses some valid code (a long ``+`` chain, a few hundred ``elif``
branches) that a recursive walker (bandit's visitor, the taint engine) cannot
follow without exhausting the stack.  Letting such a file through unread
would pass unchecked code; refusing the whole scan (``scanner_failed``) names
no file and cannot be acted on.  So the file that made a scanner recurse too
deep becomes one high finding: the gate still fails closed, the message says
which file and which scanner, and the owner can split the code, exclude the
file (``scan.exclude``) or accept the risk explicitly (audited).
"""

from __future__ import annotations

from collections.abc import Callable

from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceTree

RULE = Rule("RP-G004", "gate", "too-deep-to-analyse",
            "A Python file parses but is nested too deeply for a scanner to analyse, "
            "so that scanner did not check it.", None)


def too_deep(rel: str, scanner: str) -> Finding:
    """The RP-G004 finding for ``rel``, which made ``scanner`` exhaust its recursion."""
    return Finding(
        RULE.rule_id, Severity.HIGH, rel, 1,
        f"{rel} is nested too deeply for the {scanner} scanner to analyse (RecursionError): "
        "it was not checked by that scanner",
        "split the long expression or if/elif chain into smaller functions or a lookup "
        "table, or exclude the file with scan.exclude if the app never imports it",
        "gate", None, fingerprint_text=f"{scanner} recursion",
    )


def run_whole_tree(
    run: Callable[[SourceTree], list[Finding]], tree: SourceTree, scanner: str
) -> list[Finding]:
    """``run(tree)``; on RecursionError, find the files that cause it and scan the rest.

    Each Python file is tried on its own to find the ones the scanner cannot
    walk; they become RP-G004 findings and the tree without them is scanned
    again.  A RecursionError that no single file explains is re-raised (the
    gate then fails closed with ``scanner_failed``).
    """
    try:
        return run(tree)
    except RecursionError:
        pass
    deep = [sf for sf in tree.python if _recurses(run, tree, sf.rel)]
    if not deep:
        raise RecursionError(f"the {scanner} scanner recursed too deep on no single file")
    rest = SourceTree(tree.root, [f for f in tree.files if f not in deep], list(tree.excluded))
    return run(rest) + [too_deep(sf.rel, scanner) for sf in deep]


def _recurses(run: Callable[[SourceTree], list[Finding]], tree: SourceTree, rel: str) -> bool:
    alone = SourceTree(tree.root, [f for f in tree.files if f.rel == rel])
    try:
        run(alone)
    except RecursionError:
        return True
    return False
