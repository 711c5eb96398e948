"""The taint rules' result for a whole app, cached by the content of every module.

The taint rules follow calls from one module into another (``taint/analysis.py``),
so a finding in one file can depend on another file: a per-file cache would keep
an old answer when only the *called* module changed.  The unit cached here is
therefore the whole app.  The entry's name is the sha256 of the engine's version
(the source of the taint package, of the parser and of this module, Ramparts'
and Python's versions), the handlers the manifest declares, and the sorted
(path, sha256 of content) of every Python file that parses.  A change to any
module, to the declared handlers or to a rule is a miss and the analysis runs
again over the whole app; an unchanged app reuses its findings.

The integrity rules are ``cache.py``'s: an entry that fails its HMAC or is not
the shape this module writes is a miss, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from importlib import metadata

from ramparts.scan import depth, pyparse, taint
from ramparts.scan.cache import ScanCache, source_digest
from ramparts.scan.findings import Finding, from_rows, rows_well_formed, to_rows
from ramparts.scan.source import SourceTree

FAMILY = "taint"


@cache
def version() -> str:
    """What a cached taint result depends on besides the app's own files."""
    return "|".join(
        [
            f"ramparts=={metadata.version('ramparts')}",
            f"python{sys.version_info.major}.{sys.version_info.minor}",
            source_digest(
                taint,
                depth,
                pyparse,
                "ramparts.scan.newer_syntax",
                "ramparts.scan.source",
                "ramparts.scan.findings",
                sys.modules[__name__],
            ),
        ]
    )


def entry_name(tree: SourceTree, handlers: dict[str, set[str]]) -> str:
    """The sha256 of everything the whole-app taint result depends on."""
    files = sorted((sf.rel, sf.digest) for sf in tree.python)
    declared = sorted((file, sorted(names)) for file, names in handlers.items())
    doc = [FAMILY, version(), declared, files]
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()


def run(tree: SourceTree, handlers: dict[str, set[str]], cache: ScanCache | None) -> list[Finding]:
    """The taint findings of ``tree``: cached when no module changed, else computed (and kept)."""
    name = entry_name(tree, handlers) if cache is not None else ""
    if cache is not None:
        hit = cache.get(name)
        if isinstance(hit, dict) and rows_well_formed(hit.get("findings")):
            return from_rows(hit["findings"])
    findings = depth.run_whole_tree(lambda t: taint.run(t, handlers), tree, FAMILY)
    if cache is not None:
        cache.put(name, {"findings": to_rows(findings)})
    return findings
