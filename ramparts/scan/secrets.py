"""Hardcoded secrets: detect-secrets over every file, plus manifest entropy.

detect-secrets (all of its plugins, default filters) runs over every text
file of the tree, so keys in ``config.json`` or ``.env`` are caught as well as
in code.  On top of that, every ``environment:`` value in ``ramparts.yaml`` is
checked on its own terms: the manifest says "never secrets" there, so a
high-entropy value or a secret-sounding variable name with a literal value is
a finding even where detect-secrets' heuristics would stay quiet.

Values that cannot authenticate anyone are not findings (``_not_a_secret``):
placeholders (``****``, ``<redacted>``, ``${SECRET}``, ``xxxx``; see
``placeholders.py``), booleans and nulls under a secret-sounding key
(``GenerateSecret: false``), subresource-integrity and other algorithm-
prefixed digests (``integrity="sha384-..."``, ``sha256:...``), and digests
in lock files and SBOMs (``hashes``, CycloneDX ``content``).  A credential
in a known format (an AWS key, a private key) is never waived this way.

A finding never carries the secret itself: messages name the kind of secret
and the ids hash it, so the report is safe to paste into a ticket.
"""

from __future__ import annotations

import contextlib
import math
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ramparts import yamlsafe
from ramparts.observe.redact import looks_like_reference
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.placeholders import is_placeholder
from ramparts.scan.source import SourceTree

RULES = [
    Rule("RP-S001", "secrets", "hardcoded-secret",
         "A credential is written into the code or a file of the app.", "CWE-798"),
    Rule("RP-S002", "secrets", "secret-in-manifest-environment",
         "An environment entry in ramparts.yaml looks like a secret.", "CWE-798"),
]

# plugins that match on shape or context rather than on a known credential format
_GENERIC_TYPES = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}

_ENTROPY_TYPES = {"Base64 High Entropy String", "Hex High Entropy String"}
_MANIFEST = "ramparts.yaml"

# detect-secrets keeps its settings in a process-wide global
_lock = threading.Lock()

_SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api_?key|private_?key|credential|"
                          r"auth|signing)", re.I)
_PLAIN_VALUE = re.compile(r"^(true|false|yes|no|on|off|none|null|debug|info|warn(ing)?|error|"
                          r"\d+(\.\d+)?)$", re.I)


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_KEY_ALPHABET = re.compile(r"^[A-Za-z0-9+/=_\-]+$")  # base64, base64url, hex, token prefixes
# words joined by '-'/'_' or CamelCase, optionally with numbers: names, not keys
_WORDS = re.compile(r"^[A-Za-z]*[a-z][A-Za-z]*([-_][A-Za-z]+|[-_]?[0-9]+)*$|^[A-Z0-9_\-]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
# hex under these names is a build or content id (a git sha, an image digest), not a key
_ID_NAME = re.compile(r"(sha|commit|revision|digest|hash|checksum|etag|version|build)", re.I)


def looks_random(value: str, name: str = "") -> bool:
    """Long, dense strings: base64/hex keys rather than words, URLs, hosts or UUIDs.

    Entropy alone is not enough: a URL or a host name scores as high as a
    key.  A value counts only if it is written in a key alphabet, is not a
    UUID or a run of words, mixes character classes, and is dense.
    """
    if len(value) < 16 or _UUID.match(value) or not _KEY_ALPHABET.match(value):
        return False
    if _HEX.match(value):
        return len(value) >= 20 and shannon_entropy(value) >= 3.0 and not _ID_NAME.search(name)
    if _WORDS.match(value):
        return False
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes >= 2 and shannon_entropy(value) >= 3.7


def run(tree: SourceTree) -> list[Finding]:
    from detect_secrets.settings import default_settings

    from ramparts.scan.secret_prefilter import scan_file

    findings: list[Finding] = []
    with _lock, default_settings():
        for sf in tree.files:
            if sf.text is None:
                continue
            # several plugins often match one value (an AWS secret key is also
            # high-entropy base64 and follows a keyword): one finding per line,
            # named after the most specific plugin
            by_line: dict[int, list[Any]] = {}
            with _scannable(sf.path, sf.text) as path:
                for secret in scan_file(path):
                    by_line.setdefault(int(secret.line_number or 1), []).append(secret)
            dynamic = _dynamic_reference_lines(sf.text)  # {{resolve:...}} names, any file
            deferred = _environment_lines(sf.text) if sf.rel == _MANIFEST else set()
            named = _secret_reference_lines(sf.text) if sf.rel == _MANIFEST else set()
            refs = _reference_value_lines(sf.text) if sf.rel == _MANIFEST else set()
            digests_file = _is_digest_file(sf.rel, sf.text)
            for line, found in sorted(by_line.items()):
                name = _assigned_name(sf.line(line))
                found = [s for s in found if not _not_a_secret(s, digests_file)
                         and not _named_non_secret(s, name)]
                if not found:
                    continue
                if line in refs and all(s.type in _GENERIC_TYPES for s in found):
                    # VAR: arn:aws:secretsmanager:...:secret:NAME names a secret (the keyword
                    # plugin reads "secret:NAME" as a password); known formats still report
                    continue
                if line in deferred and all(s.type in _ENTROPY_TYPES for s in found):
                    continue  # manifest_environment judges these with the entry's name
                if line in named:
                    continue  # VAR: {secret: NAME} holds a secret's name, not its value
                if line in dynamic and all(s.type in _GENERIC_TYPES for s in found):
                    continue  # KEY: '{{resolve:secretsmanager:NAME}}' names a secret
                found.sort(key=lambda s: s.type in _GENERIC_TYPES)  # stable: plugin order kept
                primary = found[0]
                kinds = list(dict.fromkeys(s.type for s in found))
                also = f" (also matched: {', '.join(kinds[1:])})" if len(kinds) > 1 else ""
                findings.append(
                    Finding(
                        rule_id="RP-S001",
                        severity=Severity.HIGH,
                        path=sf.rel,
                        line=line,
                        message=f"{primary.type} hardcoded in the file{also}",
                        remediation="remove it, rotate it, and store it with "
                        "`ramparts secrets set`; read it through context.secrets",
                        family="secrets",
                        cwe="CWE-798",
                        fingerprint_text=f"{primary.type}\x1f{primary.secret_hash}",
                    )
                )
    return findings


_BOOLEAN_OR_NULL = {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "0", "1"}
# "sha384-<base64>" (subresource integrity, npm), "sha256:<hex>" (OCI, pip --hash): a digest
_PREFIXED_DIGEST = re.compile(
    r"^(?:sha(?:1|224|256|384|512)|md5|blake2[bs]?)[-:=]([A-Za-z0-9+/=_-]+)$", re.I)
_DIGEST_HEX_LENGTHS = {32, 40, 56, 64, 96, 128}
_DIGEST_B64_LENGTHS = {27, 28, 38, 40, 43, 44, 64, 86, 88}  # sha1/224/256/384/512, padded or not
_DIGEST_FILES = re.compile(r"(^|/)(poetry\.lock|Pipfile\.lock|uv\.lock|pdm\.lock|yarn\.lock|"
                           r"package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|"
                           r"requirements[^/]*\.txt|[^/]*\.cdx\.json|[^/]*bom[^/]*\.json|"
                           r"[^/]*\.spdx(\.json)?)$", re.I)


# digests of empty input: published constants (``EMPTY_SHA256``), never a key
_WELL_KNOWN_DIGESTS = {
    "d41d8cd98f00b204e9800998ecf8427e",  # md5("")
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # sha1("")
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256("")
}
_ASSIGNED = re.compile(r"""^\s*["']?([A-Za-z_][\w.-]*)["']?\s*[:=]""")
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$")
# a variable that holds the *name* of a field, parameter or column (``PASSWORD_FIELD``)
_FIELD_NAME = re.compile(r"(?i)(^|_)(field|param|parameter|column|attr|attribute|label|"
                         r"input|key_name|field_name)s?$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")


@contextlib.contextmanager
def _scannable(path: Path, text: str) -> Iterator[str]:
    """A path detect-secrets can read for ``text``: the file, or a decoded copy of it.

    detect-secrets reads files itself; a UTF-16 or gzip file (``source.py``
    decodes those) is written out as UTF-8 under the same name first.
    """
    with path.open("rb") as fh:
        head = fh.read(8192)
    if b"\0" not in head and head[:2] != b"\x1f\x8b":  # read as is: text on disk
        yield str(path)
        return
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    with tempfile.TemporaryDirectory(prefix="ramparts-decoded-") as tmp:
        copy = Path(tmp) / name
        copy.write_text(text, encoding="utf-8")
        yield str(copy)


def _assigned_name(line: str) -> str:
    m = _ASSIGNED.match(line)
    return m.group(1) if m else ""


def _named_non_secret(secret: Any, name: str) -> bool:
    """A digest of nothing, a commit id or digest under such a name, or a header's *name*."""
    value = getattr(secret, "secret_value", None)
    if not isinstance(value, str) or secret.type not in _GENERIC_TYPES:
        return False
    if value.lower() in _WELL_KNOWN_DIGESTS:
        return True
    if secret.type == "Hex High Entropy String" and _HEX.match(value) \
            and len(value) in _DIGEST_HEX_LENGTHS and _ID_NAME.search(name):
        return True  # GIT_COMMIT = "9fceb02d...": a build or content id
    if secret.type == "Secret Keyword" and _FIELD_NAME.search(name) and _IDENTIFIER.match(value):
        return True  # PASSWORD_FIELD = "password": the name of a form field, not its value
    return name.upper().endswith("HEADER") and bool(_HEADER_NAME.match(value))


def _is_digest_file(rel: str, text: str) -> bool:
    """A lock file or an SBOM: its long hex strings are package digests."""
    return bool(_DIGEST_FILES.search(rel)) or '"bomFormat"' in text or '"spdxVersion"' in text


def _not_a_secret(secret: Any, digests_file: bool) -> bool:
    """A placeholder, a boolean, a secret's name, or a digest: nothing that authenticates anyone."""
    value = getattr(secret, "secret_value", None)
    if not isinstance(value, str) or secret.type not in _GENERIC_TYPES:
        return False
    if is_placeholder(value) or value.strip().lower() in _BOOLEAN_OR_NULL:
        return True
    if secret.type == "Secret Keyword" and looks_like_reference(value):
        # STRIPE_KEY_SECRET: prod/payments/stripe-key names where the key is kept (a
        # SAM template's environment, a config file), as the manifest check already allows
        return True
    m = _PREFIXED_DIGEST.match(value)
    if m:
        body = m.group(1)
        return (len(body) in _DIGEST_HEX_LENGTHS and bool(_HEX.match(body))) or (
            len(body) in _DIGEST_B64_LENGTHS)
    return digests_file and len(value) in _DIGEST_HEX_LENGTHS and bool(_HEX.match(value))


# A whole YAML/JSON value that is one CloudFormation dynamic reference, and nothing else
# (an imported SAM template keeps them): ``KEY: '{{resolve:ssm-secure:/db/pw:3}}'``.
_DYNAMIC_REFERENCE_LINE = re.compile(
    r"""^\s*(?:-\s*)?["']?[\w.-]+["']?\s*:\s*(["']?)"""
    r"""\{\{resolve:(?:secretsmanager|ssm|ssm-secure):[A-Za-z0-9/_+=.@:-]+\}\}\1\s*,?\s*$"""
)


def _dynamic_reference_lines(text: str) -> set[int]:
    """Lines whose value is only a ``{{resolve:...}}`` reference: a name, never a value.

    Only the shape-or-keyword plugins are waived there (``run``): a known credential
    format on such a line is still a finding.
    """
    if "{{resolve:" not in text:
        return set()
    return {i for i, line in enumerate(text.splitlines(), start=1)
            if _DYNAMIC_REFERENCE_LINE.match(line)}


def _secret_reference_lines(text: str) -> set[int]:
    """Lines of ``functions.*.environment.VAR: {secret: NAME}`` entries (names, not values)."""
    from ramparts.scan.manifest_lint import line_map

    return {line for path, line in line_map(text).items()
            if len(path) == 5 and path[0] == "functions" and path[2] == "environment"
            and path[4] == "secret"}


def _reference_value_lines(text: str) -> set[int]:
    """Lines of ``functions.*.environment.VAR`` whose value names a secret (an ARN, a path)."""
    import yaml

    from ramparts.scan.manifest_lint import line_map

    try:
        data = yamlsafe.load(text)
    except (yaml.YAMLError, RecursionError):
        return set()
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, dict):
        return set()
    lines = line_map(text)
    out: set[int] = set()
    for fname, fn in functions.items():
        env = fn.get("environment") if isinstance(fn, dict) else None
        if not isinstance(env, dict):
            continue
        for key, value in env.items():
            if isinstance(value, str) and looks_like_reference(value):
                line = lines.get(("functions", str(fname), "environment", str(key)))
                if line is not None:
                    out.add(line)
    return out


def _environment_lines(text: str) -> set[int]:
    """Lines of ``functions.*.environment.*`` entries in the manifest text."""
    from ramparts.scan.manifest_lint import line_map

    return {line for path, line in line_map(text).items()
            if len(path) == 4 and path[0] == "functions" and path[2] == "environment"}


def manifest_environment(
    data: dict[str, Any], lines: dict[tuple[str, ...], int], taken: set[int]
) -> list[Finding]:
    """RP-S002 over ``functions.*.environment``; ``taken`` lines already have RP-S001.

    ``run`` leaves entropy-only detect-secrets hits on these lines to this
    check, which knows the entry's name (a ``GIT_SHA`` is hex, not a key).
    """
    findings: list[Finding] = []
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, dict):
        return findings
    for fname, fn in functions.items():
        env = fn.get("environment") if isinstance(fn, dict) else None
        if not isinstance(env, dict):
            continue
        for key, value in env.items():
            if isinstance(value, dict) or looks_like_reference(str(value)):
                continue  # {secret: NAME}, or a value that names a secret (an ARN, a path)
            text = str(value)
            # the same bar as the manifest schema's own check: a credential-like
            # value (8+ characters, one word) under a secret-sounding name
            named = (bool(_SECRET_NAME.search(str(key))) and len(text) >= 8
                     and not re.search(r"\s", text) and not _PLAIN_VALUE.match(text))
            dense = looks_random(text, str(key))
            if not (dense or named):
                continue
            line = lines.get(("functions", str(fname), "environment", str(key)), 1)
            if line in taken:
                continue
            why = "has a high-entropy value" if dense else "names a secret"
            findings.append(
                Finding(
                    rule_id="RP-S002",
                    severity=Severity.HIGH,
                    path="ramparts.yaml",
                    line=line,
                    message=f"environment entry {key} of function {fname} {why}; "
                    "environment values are visible to anyone who can read the manifest",
                    remediation="store the value with `ramparts secrets set`, list it under "
                    "the function's secrets:, and read it with context.secrets.get()",
                    family="secrets",
                    cwe="CWE-798",
                    fingerprint_text=f"{fname}\x1f{key}",
                )
            )
    return findings
