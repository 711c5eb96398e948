"""The tuning corpus's annotations: which rule each case expects, at which line.

tests/scan/taint_corpus/<category>/<case>/ holds one small app per case (a
vulnerable case ``..._vuln`` and its safe twin ``..._safe``).  The sink line
of a vulnerable case ends in ``# expect: RP-T002 CWE-78``; the line of its
safe twin where the sink would be ends in ``# safe: RP-T002``.  Both the
corpus test and bench/scan_corpus.py read the cases through this module, so
they agree on what a case asserts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "taint_corpus"

# /work/notes/cwe.md: one CWE per rule (taint and logic families)
RULE_CWES = {
    "RP-T001": "CWE-94", "RP-T002": "CWE-78", "RP-T003": "CWE-89", "RP-T004": "CWE-502",
    "RP-T005": "CWE-22", "RP-T006": "CWE-918", "RP-T007": "CWE-1336", "RP-T008": "CWE-943",
    "RP-T009": "CWE-643", "RP-T010": "CWE-90", "RP-T011": "CWE-601", "RP-T012": "CWE-79",
    "RP-T013": "CWE-611", "RP-T014": "CWE-117", "RP-T015": "CWE-501",
    "RP-L001": "CWE-347", "RP-L002": "CWE-209", "RP-L003": "CWE-732", "RP-L004": "CWE-942",
    "RP-L005": "CWE-295", "RP-L006": "CWE-798", "RP-L007": "CWE-328", "RP-L008": "CWE-330",
    "RP-L009": "CWE-614",
}

_ANNOTATION = re.compile(r"#\s*(expect|safe):\s*(RP-[A-Z]\d{3})\b(?:\s+(CWE-\d+))?")


@dataclass(frozen=True)
class Mark:
    """One asserted line: ``vulnerable`` means the rule must fire there, else must not."""

    case: str  # "T002_command/01_django_helper_vuln", relative to the corpus
    path: str  # the file, relative to the case folder (the scan root)
    line: int
    rule: str
    cwe: str  # for a safe mark: the rule's CWE from RULE_CWES
    vulnerable: bool

    @property
    def category(self) -> str:
        return self.case.split("/", 1)[0]


def case_dirs(root: Path = CORPUS) -> list[Path]:
    """Every case folder, in a stable order."""
    return sorted(p for p in root.glob("[TL][0-9][0-9][0-9]_*/*") if p.is_dir())


def read_marks(case: Path, root: Path = CORPUS) -> list[Mark]:
    """The annotated lines of every ``.py`` file of one case folder."""
    marks: list[Mark] = []
    name = case.relative_to(root).as_posix()
    for path in sorted(case.rglob("*.py")):
        rel = path.relative_to(case).as_posix()
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = _ANNOTATION.search(text)
            if m is None:
                continue
            kind, rule, cwe = m.groups()
            marks.append(Mark(name, rel, number, rule, cwe or RULE_CWES.get(rule, ""),
                              kind == "expect"))
    return marks
