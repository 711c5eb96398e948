"""Loading a rule directory: our YAML rules and imported Sigma rules, checked together.

Fails closed: a missing or empty directory, an invalid file or two rules with
one id is a ``RuleError`` naming the file and field, and the node does not start.
"""

from __future__ import annotations

from pathlib import Path

from ramparts.respond.errors import RuleError
from ramparts.respond.rules import Rule, parse_rules, read_rule_file, shipped_rules_dir
from ramparts.respond.sigma import is_sigma, parse_sigma


def load_file(path: Path) -> list[Rule]:
    """The rules in one file: ours (one, or ``rules: [...]``) or one Sigma rule."""
    text, data = read_rule_file(path)
    if is_sigma(data):
        return [parse_sigma(text, file=str(path))]
    return parse_rules(data, file=str(path))


def load_rules(directory: Path | None = None) -> list[Rule]:
    """Every rule in ``directory`` (``*.yaml``/``*.yml``, not recursive; default: shipped)."""
    where = Path(directory) if directory is not None else shipped_rules_dir()
    if not where.is_dir():
        raise RuleError(str(where), "", "--detections must name a directory of rule files")
    paths = sorted(p for p in where.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not paths:
        raise RuleError(str(where), "", "no rule files (*.yaml) in this directory")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in paths:
        for rule in load_file(path):
            if rule.id in seen:
                raise RuleError(
                    str(path), "id", f"rule id {rule.id!r} is also used in {seen[rule.id]}"
                )
            seen[rule.id] = str(path)
            rules.append(rule)
    return rules
