"""The gate's findings about ramparts.yaml: the policy lint, and what is not a secret.

The policy lint (``ramparts.policy.lint``) is placed on the manifest line it is
about (RP-P rules); secret names the manifest references and the public keys it
publishes are not secrets, so the gate drops detect-secrets' findings on them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ramparts.manifest import MANIFEST_NAME, Manifest, parse_handler
from ramparts.scan import depth
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceTree

POLICY_RULES = {
    "RP-P001": Rule("RP-P001", "policy", "allow-every-action",
                    "A role allows every action (or everything but a list).", "CWE-732"),
    "RP-P002": Rule("RP-P002", "policy", "allow-every-resource",
                    "A role grants every resource, a whole kind, or another app's resources.",
                    "CWE-732"),
    "RP-P003": Rule("RP-P003", "policy", "privilege-escalation",
                    "A role may change policies, keys, secrets or deployments.", "CWE-269"),
    "RP-P004": Rule("RP-P004", "policy", "unused-grant",
                    "A grant no handler code could use.", "CWE-272"),
    "RP-P005": Rule("RP-P005", "policy", "broad-grant-without-deny",
                    "A broad grant in a role with no Deny.", "CWE-272"),
    "RP-P006": Rule("RP-P006", "policy", "call-not-allowed",
                    "Handler code makes a call its role does not allow (denied at run time).",
                    None),
}
_POLICY_SEVERITY = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}
_STATEMENT_LABEL = re.compile(r"\.Statement\[(\d+)\]$")


def secret_reference_hashes(manifest: Manifest) -> set[str]:
    """sha1 of every secret *name* the manifest references.

    detect-secrets' keyword plugin reads ``secret: billing-key`` as a
    password; in ramparts.yaml the fields ``secret`` (webhooks, HS256
    issuers), ``client_secret`` (introspection), ``secrets`` and ``rotates``
    are references into the encrypted secret store, validated as resource
    names by the manifest schema, never values.  Matching on detect-secrets'
    own hash of the flagged value (not on the line, which its YAML reader can
    misplace in flow mappings) drops exactly those and nothing else.
    """
    names: set[str] = set()
    if manifest.auth is not None:
        names.update(i.secret for i in manifest.auth.jwt if i.secret)
        if manifest.auth.introspection is not None:
            names.add(manifest.auth.introspection.client_secret)
    for fn in manifest.functions.values():
        names.update(fn.secrets)
        names.update(fn.rotates)
        for trig in fn.triggers:
            if trig.kind == "webhook":
                names.add(trig.config.secret)
    return {hashlib.sha1(n.encode()).hexdigest() for n in names}  # noqa: S324 - their hash


_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def public_key_files(manifest: Manifest, tree: SourceTree) -> set[str]:
    """Key files the manifest names as ``jwks:`` that hold public keys only.

    A JWKS's RSA modulus is as random as a secret, so detect-secrets flags
    it; it is published on purpose.  A file with any private member (``d``,
    ``k`` ...) or a PEM ``PRIVATE KEY`` block stays a finding: that is a leak.
    """
    out: set[str] = set()
    for issuer in manifest.auth.jwt if manifest.auth is not None else []:
        if not issuer.jwks or "://" in issuer.jwks:
            continue
        rel = Path(issuer.jwks).as_posix().removeprefix("./")
        sf = tree.get(rel)
        if sf is None or sf.text is None:
            continue
        if "-----BEGIN" in sf.text:
            if "PRIVATE KEY" not in sf.text:
                out.add(rel)
            continue
        try:
            doc = json.loads(sf.text)
        except ValueError:
            continue
        keys = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
        if isinstance(keys, list) and all(
            isinstance(k, dict) and not (_PRIVATE_JWK_MEMBERS & set(k)) for k in keys
        ):
            out.add(rel)
    return out


def policy_or_too_deep(
    manifest: Manifest, root: Path, lines: dict[tuple[str, ...], int]
) -> list[Finding]:
    """Policy findings; handler code too deep for the policy lint's walk is RP-G004 each."""
    try:
        return _policy_findings(manifest, root, lines)
    except RecursionError:
        handlers = sorted({parse_handler(fn.handler)[0] for fn in manifest.functions.values()})
        return [depth.too_deep(h, "policy") for h in handlers]


def _policy_findings(
    manifest: Manifest, root: Path, lines: dict[tuple[str, ...], int]
) -> list[Finding]:
    """``ramparts policy lint`` findings, placed on the manifest line they are about."""
    from ramparts.policy.lint import lint_manifest

    out: list[Finding] = []
    for pf in lint_manifest(manifest, root):
        path, line = MANIFEST_NAME, lines.get(("functions", pf.function), 1)
        where = pf.where
        code_loc = re.match(r"^(.+\.py):(\d+)$", where)
        if code_loc:
            path, line = code_loc.group(1), int(code_loc.group(2))
        elif where.endswith(".secrets"):
            line = lines.get(("functions", pf.function, "secrets"), line)
        else:
            label = where.split("(", 1)[-1].rstrip(")")
            m = _STATEMENT_LABEL.search(label)
            fn = manifest.functions.get(pf.function)
            index: int | None = int(m.group(1)) if m and ".policies[" not in label else None
            if index is None and fn is not None and fn.role is not None and not isinstance(
                fn.role, str
            ):
                index = next((j for j, st in enumerate(fn.role.statements) if st.sid == label),
                             None)
            key = ("functions", pf.function, "role", "statements", str(index))
            line = lines.get(key) or lines.get(("functions", pf.function, "role"), line)
        rule = POLICY_RULES.get(pf.rule)
        out.append(
            Finding(pf.rule, _POLICY_SEVERITY.get(pf.severity, Severity.MEDIUM), path, line,
                    pf.message, pf.hint, "policy", rule.cwe if rule else None,
                    fingerprint_text=f"{pf.function}\x1f{pf.where}\x1f{pf.message}")
        )
    return out
