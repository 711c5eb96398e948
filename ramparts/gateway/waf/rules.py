"""WAF rules: the YAML format, its validation, and the shipped default set.

A rule file is ``rules:`` followed by a list of rules::

    rules:
      - id: sqli-union-select          # unique; letters, digits, '-', '_', '.'
        category: sqli                  # sqli, xss, path_traversal, ... or your own
        description: UNION-based SQL injection
        severity: critical              # critical 5, high 4, medium 3, low 2 (or score: N)
        targets: [query, body, cookie]  # path query body cookie header credential,
                                        # or header:NAME for one header
        patterns: ['\\bunion( all)? ?\\(? ?select\\b']   # Python regexes, any may match
        match: folded                   # folded (default) or decoded, see below
        detector: libinjection_sqli     # instead of patterns: a named detector
        paranoia: 1                     # informational: how likely it misfires
        notes: ...

``plain: true`` says a rule can fire on a value of plain words -- letters,
digits, spaces and ``. , ! ? @ - _`` only (``1 union select pw from users``,
a scanner's user agent, ``localhost``).  Rules without it are skipped on such
values, which is most of them in most requests; a rule that needs no quote,
bracket, slash, operator or line break to match must say ``plain: true``.
App rule files default to ``plain: true`` unless they say otherwise.

``prose: N`` gives a rule a lower score (N) when what it matched is quoted in
prose rather than sent as a value: inside a markdown code span or fence of a
sentence (``try `ls -la ~/.ssh` first``), or in text with several English
function words around it (support comments quoting shell, code reviews quoting
SQL).  Rules for markers no one quotes by accident (``/dev/tcp/``, ``${jndi:``)
leave it out and keep their score everywhere.  See ``prose.py``.

Patterns match the ``folded`` form of a value (decoded, lower case, SQL
comments and whitespace runs as one space) unless ``match: decoded`` says
they need the decoded value as it is (line breaks, case), in which case
they match ignoring case.  Regexes run on Python's backtracking engine:
write them without nested or overlapping quantifiers and bound repetition
(``.{0,100}``); the default set is tested against 100 KB adversarial inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ramparts.errors import ManifestError
from ramparts.gateway.waf.detectors import DETECTORS

SEVERITIES = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}
TARGET_KINDS = frozenset({"path", "query", "body", "cookie", "header", "credential"})
DEFAULT_TARGETS = ("path", "query", "body", "cookie", "header")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
MAX_PATTERNS = 100
MAX_RULES = 1000


class WafRuleError(ManifestError):
    """A WAF rule file is invalid (file, field path, reason)."""

    code = "invalid_waf_rules"


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    category: str
    description: str = Field(min_length=1, max_length=300)
    severity: Literal["critical", "high", "medium", "low", "info"] | None = None
    score: int | None = Field(default=None, ge=0, le=100)
    targets: list[str] = Field(default_factory=lambda: list(DEFAULT_TARGETS), min_length=1)
    patterns: list[str] = Field(default_factory=list, max_length=MAX_PATTERNS)
    match: Literal["folded", "decoded"] = "folded"
    detector: str | None = None
    paranoia: int = Field(default=1, ge=1, le=4)
    notes: str = ""
    plain: bool = False  # may match a value of plain words (see the module docstring)
    prose: int | None = Field(default=None, ge=0, le=100)  # score when quoted in prose

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError("rule ids use letters, digits, '.', '-' and '_' (at most 80)")
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if not _CATEGORY_RE.match(v):
            raise ValueError("categories use lowercase letters, digits and '_'")
        return v

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for t in v:
            kind, _, header = t.partition(":")
            if kind not in TARGET_KINDS or (header and kind not in ("header", "credential")):
                raise ValueError(
                    f"{t!r} is not a target ({', '.join(sorted(TARGET_KINDS))}, or header:NAME)"
                )
        return [t.lower() for t in v]

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for i, p in enumerate(v):
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {i} is not a valid regular expression: {exc}") from None
            if re.compile(p).match(""):
                raise ValueError(f"pattern {i} matches the empty string (it would match anything)")
        return v

    @field_validator("detector")
    @classmethod
    def _detector(cls, v: str | None) -> str | None:
        if v is not None and v not in DETECTORS:
            raise ValueError(f"{v!r} is not a detector ({', '.join(sorted(DETECTORS))})")
        return v

    @model_validator(mode="after")
    def _one_way(self) -> _RuleModel:
        if bool(self.patterns) == bool(self.detector):
            raise ValueError("a rule has either patterns or a detector")
        if self.severity is None and self.score is None:
            raise ValueError("a rule needs a severity or a score")
        return self


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[_RuleModel] = Field(max_length=MAX_RULES)


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule (see the module docstring for the fields)."""

    id: str
    category: str
    description: str
    score: int
    targets: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    detector: str | None
    decoded: bool  # patterns match the decoded value (ignoring case), not the folded one
    paranoia: int = 1
    notes: str = ""
    source: str = "default"
    plain: bool = False
    prose: int | None = None  # the score when the match is quoted in prose (None: unchanged)

    def applies_to(self, kind: str, header: str) -> bool:
        if kind in self.targets:
            return True
        if not header:
            return False
        wanted = f"{kind}:{header}"
        return wanted in self.targets or any(
            t.endswith("*") and wanted.startswith(t[:-1]) for t in self.targets
        )

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "score": self.score,
            "description": self.description,
            "source": self.source,
            "detector": self.detector,
        }


def _compile(model: _RuleModel, source: str) -> Rule:
    flags = re.IGNORECASE if model.match == "decoded" else 0
    return Rule(
        id=model.id,
        category=model.category,
        description=model.description,
        score=model.score if model.score is not None else SEVERITIES[model.severity or "info"],
        targets=frozenset(model.targets),
        patterns=tuple(re.compile(p, flags) for p in model.patterns),
        detector=model.detector,
        decoded=model.match == "decoded",
        paranoia=model.paranoia,
        notes=model.notes,
        source=source,
        plain=model.plain,
        prose=model.prose,
    )


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_rules(text: str, source: str, *, plain_default: bool = True) -> list[Rule]:
    """Rules from one YAML document; ``source`` names the file in errors.

    ``plain_default``: what a rule that does not say ``plain:`` gets (app rule
    files: True, the safe choice; the default set marks its plain rules).
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise WafRuleError(source, [(where, "not valid YAML")]) from None
    if not isinstance(doc, dict):
        raise WafRuleError(source, [("", "a rule file is a mapping with a 'rules:' list")])
    if not plain_default and isinstance(doc.get("rules"), list):
        doc = {**doc, "rules": [
            {"plain": False, **r} if isinstance(r, dict) else r for r in doc["rules"]
        ]}
    elif isinstance(doc.get("rules"), list):
        doc = {**doc, "rules": [
            {"plain": True, **r} if isinstance(r, dict) else r for r in doc["rules"]
        ]}
    try:
        parsed = _FileModel.model_validate(doc)
    except ValidationError as exc:
        problems = [
            (_field(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()
        ]
        raise WafRuleError(source, problems) from None
    seen: set[str] = set()
    rules = []
    for i, model in enumerate(parsed.rules):
        if model.id in seen:
            raise WafRuleError(source, [(f"rules[{i}].id", f"{model.id!r} is defined twice")])
        seen.add(model.id)
        rules.append(_compile(model, source))
    return rules


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    """The shipped rule set (``ramparts/gateway/waf/rules/default.yaml``), compiled once."""
    text = resources.files("ramparts.gateway.waf").joinpath("rules/default.yaml").read_text()
    return tuple(parse_rules(text, "default.yaml", plain_default=False))


def load_app_rules(app_dir: Path, files: list[str]) -> list[Rule]:
    """An app's own rule files (``waf.rules``), read from inside the app directory only."""
    rules: list[Rule] = []
    root = app_dir.resolve()
    for i, rel in enumerate(files):
        where = [(f"waf.rules[{i}]", "")]
        path = (app_dir / rel).resolve()
        if Path(rel).is_absolute() or not path.is_relative_to(root):
            raise WafRuleError("ramparts.yaml", [(where[0][0], f"{rel!r} is outside the app")])
        if not path.is_file():
            raise WafRuleError(
                "ramparts.yaml", [(where[0][0], f"{rel!r} is not a file of the app")]
            )
        rules.extend(parse_rules(path.read_text(errors="replace"), rel))
    return rules
