"""One catalogue entry, or the whole catalogue, as text, JSON or Markdown.

``markdown_guide`` (every rule) is what docs/rules.md holds below its
hand-written introduction, and ``markdown_essentials`` (the few rules of
``ESSENTIALS``) what docs/secure-functions.md, the short guide, holds below
its own; a test regenerates both and compares, so neither can drift from the
catalogue ``ramparts explain`` prints.
"""

from __future__ import annotations

import json
import re
import textwrap

from ramparts.explain.catalog import Entry

FORMATS = ("text", "json", "markdown")
GUIDE_MARKER = "<!-- generated: python -m ramparts.explain.guide (do not edit below) -->"
ESSENTIALS_MARKER = (
    "<!-- generated: python -m ramparts.explain.guide, the essential rules (do not edit below) -->"
)
REFERENCE = "rules.md"  # where the short guide links each rule's full entry (docs/rules.md)

# The short guide's rules: the mistakes that most often open a serverless function to an
# attacker (the OWASP Serverless Top 10's first risks), one per kind of fix.
ESSENTIALS = (
    "RP-T003",  # injection: SQL from event data (SAS-1)
    "RP-T002",  # injection: a shell command from event data (SAS-1)
    "RP-S001",  # a credential in the code (SAS-7)
    "RP-L002",  # error details returned to the caller (SAS-10)
    "RP-X060",  # objects looked up by id without checking the caller (SAS-2)
    "RP-M001",  # a public route (SAS-2)
    "RP-P001",  # a role allowing every action (SAS-4)
    "RP-M007",  # runtime protection off, egress open (SAS-3)
    "RP-A023",  # trigger input without a schema (SAS-1)
)

# the families in the order the guide lists them, by id prefix
_FAMILIES = (
    ("RP-T", "Tainted data reaching a dangerous call (taint rules)"),
    ("RP-L", "Security logic in handler code"),
    ("RP-S", "Secrets"),
    ("B", "Bandit checks (as calibrated by the gate)"),
    ("RP-D", "Dependencies"),
    ("RP-M", "Manifest (ramparts.yaml)"),
    ("RP-P", "Roles and least privilege (policy lint)"),
    ("RP-I", "Infrastructure templates (SAM, CloudFormation, serverless.yml)"),
    ("RP-G", "What the gate could not read"),
    ("RP-A", "Posture audit"),
    ("RP-X", "Penetration test (ramparts pentest)"),
)


# invisible characters that change how code reads (bidi controls, zero-width): shown as
# escapes, so B613's example is visible in a terminal and in the guide rather than acted on
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _visible(code: str) -> str:
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", code)


def as_text(entry: Entry) -> str:
    wrap = "\n".join(textwrap.wrap(entry.risk, 88))
    return (
        f"{entry.id}: {entry.title}\n\n{wrap}\n\n"
        f"Vulnerable:\n{textwrap.indent(_visible(entry.vulnerable), '    ')}\n"
        f"Fixed:\n{textwrap.indent(_visible(entry.fixed), '    ')}\n"
        f"OWASP: {entry.owasp}\n"
    )


def as_json(entry: Entry) -> str:
    return json.dumps(entry.to_dict(), indent=2) + "\n"


def as_markdown(entry: Entry, level: int = 2) -> str:
    fence = "```"
    lang = "" if entry.language == "text" else entry.language
    return (
        f"{'#' * level} {entry.id}: {entry.title}\n\n{entry.risk}\n\n"
        f"Vulnerable:\n\n{fence}{lang}\n{_visible(entry.vulnerable)}{fence}\n\n"
        f"Fixed:\n\n{fence}{lang}\n{_visible(entry.fixed)}{fence}\n\n"
        f"OWASP: <{entry.owasp}>\n"
    )


def render(entry: Entry, fmt: str) -> str:
    if fmt == "json":
        return as_json(entry)
    if fmt == "markdown":
        return as_markdown(entry)
    return as_text(entry)


def markdown_guide(catalog: dict[str, Entry]) -> str:
    """Every entry, grouped by family in a fixed order, then any family not listed."""
    remaining = dict(sorted(catalog.items(), key=lambda kv: _sort_key(kv[0])))
    parts: list[str] = []
    for prefix, heading in _FAMILIES:
        group = [e for i, e in remaining.items() if _family(i) == prefix]
        if group:
            parts.append(_section(heading, group))
            for e in group:
                del remaining[e.id]
    others = list(remaining.values())
    if others:
        parts.append(_section("Other rules", others))
    return "\n".join(parts)


def anchor(entry: Entry, level: int = 3) -> str:
    """The GitHub-style anchor of ``entry``'s heading as ``as_markdown`` writes it."""
    heading = f"{entry.id}: {entry.title}".lower()
    kept = "".join(c for c in heading if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def markdown_essentials(catalog: dict[str, Entry]) -> str:
    """The ``ESSENTIALS`` rules in their order, each linked to its entry in the reference."""
    parts = ["## The rules that matter most\n"]
    for n, rule_id in enumerate(ESSENTIALS, 1):
        e = catalog[rule_id]
        fence = "```"
        lang = "" if e.language == "text" else e.language
        parts.append(
            f"### {n}. {e.id}: {e.title}\n\n{e.risk}\n\n"
            f"Vulnerable:\n\n{fence}{lang}\n{_visible(e.vulnerable)}{fence}\n\n"
            f"Fixed:\n\n{fence}{lang}\n{_visible(e.fixed)}{fence}\n\n"
            f"OWASP: <{e.owasp}>; the full entry: [{REFERENCE}]({REFERENCE}#{anchor(e)})\n"
        )
    return "\n".join(parts)


def _section(heading: str, group: list[Entry]) -> str:
    body = "\n".join(as_markdown(e, level=3) for e in group)
    return f"## {heading}\n\n{body}"


def _family(rule_id: str) -> str:
    return "B" if rule_id.startswith("B") else rule_id[:4]


def _sort_key(rule_id: str) -> tuple[str, int]:
    digits = "".join(c for c in rule_id if c.isdigit())
    return (_family(rule_id), int(digits or 0))
