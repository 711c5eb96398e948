"""docs/benchmarks.md is shared: each bench script owns one section between markers.

    <!-- bench:NAME -->
    ...generated text...
    <!-- /bench:NAME -->

``write_section`` replaces only the text between its own pair of markers and
keeps every other byte of the file (other scripts' sections, hand-written
notes), so the scripts can run in any order and a new one never erases the
others.  A section that is not in the file yet is appended at the end.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TITLE = "# Benchmarks\n"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_section(doc: str, name: str, text: str) -> str:
    """``doc`` with section ``name`` set to ``text`` (everything else untouched)."""
    begin, end = markers(name)
    block = f"{begin}\n{text.strip(chr(10))}\n{end}"
    start = doc.find(begin)
    if start >= 0:
        stop = doc.find(end, start + len(begin))
        if stop < 0:
            raise ValueError(f"{begin} has no closing {end}: fix the file by hand")
        return doc[:start] + block + doc[stop + len(end) :]
    if not doc.strip():
        doc = TITLE
    return doc.rstrip("\n") + "\n\n" + block + "\n"


def write_section(path: Path, name: str, text: str) -> None:
    """Replace section ``name`` of the file at ``path``; written atomically (rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = path.read_text(encoding="utf-8") if path.exists() else TITLE
    new = replace_section(doc, name, text)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
