"""The dependency files of a tree, the files they include, and RP-D003.

``collect`` reads every dependency file the app ships (and every file a
requirements file reaches through ``-r``/``-c``, whatever its name); the RP-D003
checks report what a node would refuse to install, and includes that name no
file of the app or form a cycle.
"""

from __future__ import annotations

import re

from ramparts.scan.deps.parse import (
    LOCK_FILES,
    Requirement,
    is_dependency_file,
    parse_file,
    parse_requirements_txt,
)
from ramparts.scan.findings import Finding, Severity
from ramparts.scan.reqfile import InstallPolicy, inspect_text
from ramparts.scan.source import SourceTree

_D003_CWE = {"include": "CWE-22"}


def includes(text: str) -> list[tuple[int, str, bool]]:
    """(line, target, is_constraint) of every ``-r``/``-c`` option in a requirements file."""
    from ramparts.scan.reqfile import logical_lines

    out: list[tuple[int, str, bool]] = []
    for number, line in logical_lines(text):
        m = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)",
                     line.strip())
        if m:
            out.append((number, m.group(2), m.group(1) in ("-c", "--constraint")))
    return out


def collect(tree: SourceTree) -> tuple[list[Requirement], list[str]]:
    """Every requirement of every dependency file in the tree, and notes on unreadable ones."""
    reqs: list[Requirement] = []
    notes: list[str] = []
    locked_dirs = {
        sf.rel.rsplit("/", 1)[0] if "/" in sf.rel else ""
        for sf in tree.files
        if sf.rel.rsplit("/", 1)[-1] in LOCK_FILES
    }
    for sf in tree.files:
        if sf.text is None or not is_dependency_file(sf.rel):
            continue
        try:
            found = parse_file(sf)
        except ValueError as exc:
            notes.append(str(exc))
            continue
        folder = sf.rel.rsplit("/", 1)[0] if "/" in sf.rel else ""
        if sf.rel.endswith("pyproject.toml") and folder in locked_dirs:
            found = [r for r in found if r.pinned]  # the lock file pins the rest
        reqs.extend(found)
    reqs.extend(_included(tree))
    return reqs, notes


def _included(tree: SourceTree) -> list[Requirement]:
    """Requirements of files reached by ``-r``/``-c`` that are not dependency files by name.

    pip installs from them (``-r deps.in``) or is held to their pins
    (``-c pins.txt``) whatever they are called, and whether or not
    ``scan.exclude`` names them, so their pins are matched like any other.
    Includes resolve against the including file's directory, as pip does.
    """
    out: list[Requirement] = []
    done = {sf.rel for sf in tree.files if sf.text is not None and is_dependency_file(sf.rel)
            and sf.rel.endswith(".txt")}
    queue = [(rel, False) for rel in sorted(done)]
    while queue:
        rel, constraint = queue.pop(0)
        text = _read_inside(tree, rel)
        if text is None:
            continue
        for _, target, is_constraint in includes(text):
            child = _join(rel, target)
            if child is None or child in done:
                continue  # outside the app (RP-D003) or already read (also a cycle)
            done.add(child)
            child_text = _read_inside(tree, child)
            if child_text is None:
                continue  # missing: RP-D003 from the include check
            # requirements only: a line that is not one is never quoted back (it may be
            # anything, a secret included), and is the RP-D003 include check's business
            found = [r for r in parse_requirements_txt(child_text, child)
                     if r.pinned or r.problem.startswith("allows")]
            for r in found:
                r.constraint = constraint or is_constraint
            out.extend(found)
            queue.append((child, constraint or is_constraint))
    return out


def include_problems(tree: SourceTree) -> list[Finding]:
    """RP-D003 for an include that names no file of the app, or that includes itself."""
    out: dict[str, Finding] = {}
    roots = sorted(sf.rel for sf in tree.files if sf.text is not None
                   and sf.rel.endswith(".txt") and is_dependency_file(sf.rel))

    def finding(rel: str, line: int, message: str, text: str) -> None:
        f = Finding("RP-D003", Severity.HIGH, rel, line, message,
                    "include only files shipped in the app, each once (no -r/-c cycle)",
                    "deps", "CWE-829", fingerprint_text=f"include\x1f{text}")
        out.setdefault(f.id, f)

    def walk(rel: str, chain: tuple[str, ...]) -> None:
        text = _read_inside(tree, rel)
        if text is None or len(chain) > 64:
            return
        for line, target, _ in includes(text):
            child = _join(rel, target)
            if child is None:
                continue  # outside the app: the include check reports it
            if child in chain or child == rel:
                finding(rel, line, f"{target} includes {rel} again (a -r/-c cycle: "
                        + " -> ".join([*chain, rel, child]) + "): pip cannot resolve it", target)
                continue
            if _read_inside(tree, child) is None:
                finding(rel, line, f"{target} is not a file of the app: the install fails and "
                        "its pins cannot be checked", target)
                continue
            walk(child, (*chain, rel))

    for rel in roots:
        walk(rel, ())
    return list(out.values())


def _join(rel: str, target: str) -> str | None:
    import posixpath

    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target):
        return None
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    joined = posixpath.normpath(posixpath.join(folder, target))
    return None if joined.startswith("../") or joined.startswith("/") or joined == ".." else joined


def _read_inside(tree: SourceTree, rel: str) -> str | None:
    sf = tree.get(rel)
    if sf is not None:
        return sf.text
    path = tree.root / rel  # excluded from the scan, still installed from: read it anyway
    try:
        if not path.resolve().is_relative_to(tree.root.resolve()) or not path.is_file():
            return None
        if path.stat().st_size > 1024 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def unsafe_options(tree: SourceTree, policy: InstallPolicy) -> list[Finding]:
    """RP-D003: what a node would refuse to install, found before anything is uploaded."""
    out: dict[str, Finding] = {}
    for sf in tree.files:
        name = sf.rel.rsplit("/", 1)[-1]
        if sf.text is None or not name.endswith(".txt") or not is_dependency_file(sf.rel):
            continue
        for p in inspect_text(sf.text, sf.rel, tree.root, policy):
            f = Finding(
                rule_id="RP-D003",
                severity=Severity.HIGH,
                path=p.path,
                line=p.line,
                message=p.message,
                remediation="list pinned releases from the node's package index, or wheels "
                "shipped inside the app; the node refuses this line at install time",
                family="deps",
                cwe=_D003_CWE.get(p.kind, "CWE-829"),
                fingerprint_text=f"{p.kind}\x1f{p.text}",
            )
            out.setdefault(f.id, f)  # an included file is also scanned on its own
    return list(out.values())
