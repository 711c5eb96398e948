"""AWS secret and parameter names <-> Ramparts secret names.

Secrets Manager and SSM Parameter Store are two AWS views of one Ramparts
store: every secret belongs to an app and is named by a flat *Ramparts
secret name*.  This module is the only place that translates between them,
so the services, the policy translation and ``ramparts import`` (SAM) agree.
It is pure: no I/O, no store, no clock.

Ramparts secret names are 1 to 128 characters of letters, digits, ``.``,
``_`` and ``-``, starting with a letter or digit, never containing ``..``
(the rule of ``ramparts.secrets.store.NAME_RE``; a test keeps the two in
step).  They never contain ``/``: a hierarchy is written with dots.

- SSM: ``/a/b/c`` is the secret ``a.b.c`` (strip the leading ``/``, every
  other ``/`` becomes ``.``).  A name without ``/`` (``db-password``) is the
  secret of that name.  A name that has ``/`` must start with it (AWS's own
  rule), and a path segment may not contain ``.``, so no two paths name one
  secret (``/a.b/c`` would collide with ``/a/b/c``).  The parameter name
  shown for a secret is always ``/`` plus its dots as slashes, or the bare
  name for a secret without dots.
- Secrets Manager: a SecretId is a name or an ARN
  ``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX``.  The 6-character
  suffix AWS appends is derived from the name here (stable on every node and
  offline), and an ARN is accepted with or without it.  A ``/`` in a Secrets
  Manager name (``prod/db/password``, common on AWS) maps to ``.`` the same
  way as a parameter path, so ``prod/db/password`` and the parameter
  ``/prod/db/password`` both name the secret ``prod.db.password``.

Nothing here authorizes: a name found in a request is only a name; the
service still asks the broker whether the calling function may read it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ramparts.aws.accounts import account_id

# Keep in step with ramparts.secrets.store.NAME_RE (tests/aws/test_secretnames.py checks).
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_SECRET_ARN_RE = re.compile(
    r"^arn:aws:secretsmanager:(?P<region>[a-z0-9-]*|\*):(?P<account>\d{12}|\*?):secret:(?P<rest>.+)$"
)
_PARAMETER_ARN_RE = re.compile(
    r"^arn:aws:ssm:(?P<region>[a-z0-9-]*|\*):(?P<account>\d{12}|\*?):parameter(?P<rest>/.+)$"
)


class SecretNameError(ValueError):
    """A name that cannot be a Ramparts secret; the message says why (never a value)."""


@dataclass(frozen=True)
class SecretRef:
    """What a SecretId or parameter name names: a secret, and where an ARN said it lives."""

    name: str  # the Ramparts secret name
    region: str | None = None  # from an ARN; None for a plain name
    account: str | None = None


def is_secret_name(name: object) -> bool:
    return isinstance(name, str) and bool(SECRET_NAME_RE.match(name)) and ".." not in name


def _checked(name: str, original: str) -> str:
    if not is_secret_name(name):
        raise SecretNameError(
            f"{original!r} is not a valid Ramparts secret name: 1 to 128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return name


def suffix(name: str) -> str:
    """The stable 6-character suffix Secrets Manager ARNs carry for secret ``name``."""
    digest = hashlib.sha256(b"ramparts-secret-suffix:" + name.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:6])


def secret_arn(app: str, region: str, name: str) -> str:
    """``secret_arn("shop", "us-east-1", "db.password")`` -> the full Secrets Manager ARN."""
    return f"arn:aws:secretsmanager:{region}:{account_id(app)}:secret:{name}-{suffix(name)}"


def _slashes_to_dots(text: str, original: str, *, path: bool = False) -> str:
    """``a/b`` -> ``a.b``; with ``path`` (an SSM path) even a single part may not hold a dot."""
    if "/" not in text and not path:
        return _checked(text, original)
    segments = text.split("/")
    for seg in segments:
        if not _SEGMENT_RE.match(seg):
            raise SecretNameError(
                f"{original!r}: each '/'-separated part must be letters, digits, '_' or '-', "
                "starting with a letter or digit (no '.', no empty part)"
            )
    return _checked(".".join(segments), original)


def parse_secret_id(secret_id: str) -> SecretRef:
    """A Secrets Manager SecretId (name, partial ARN or complete ARN) -> its secret."""
    if not isinstance(secret_id, str) or not secret_id:
        raise SecretNameError("SecretId must be a non-empty string")
    m = _SECRET_ARN_RE.match(secret_id)
    if m is None:
        if secret_id.startswith("arn:"):
            raise SecretNameError(f"{secret_id!r} is not a Secrets Manager secret ARN")
        return SecretRef(_slashes_to_dots(secret_id, secret_id))
    rest = m["rest"]
    head, dash, tail = rest.rpartition("-")
    if dash and len(tail) == 6 and head:
        try:
            name = _slashes_to_dots(head, secret_id)
        except SecretNameError:
            name = ""
        if name and tail == suffix(name):
            return SecretRef(name, m["region"], m["account"])
    return SecretRef(_slashes_to_dots(rest, secret_id), m["region"], m["account"])


def secret_from_id(secret_id: str) -> str:
    """A Secrets Manager SecretId -> the Ramparts secret name (raises ``SecretNameError``)."""
    return parse_secret_id(secret_id).name


def parse_parameter(name: str) -> SecretRef:
    """An SSM parameter name or ARN -> its secret."""
    if not isinstance(name, str) or not name:
        raise SecretNameError("a parameter name must be a non-empty string")
    m = _PARAMETER_ARN_RE.match(name)
    if m is not None:
        path = m["rest"]
        # arn:...:parameter/db-password names "db-password"; .../a/b names "/a/b"
        inner = path[1:] if path.count("/") == 1 else path
        return SecretRef(parameter_to_secret(inner), m["region"], m["account"])
    if name.startswith("arn:"):
        raise SecretNameError(f"{name!r} is not an SSM parameter ARN")
    return SecretRef(parameter_to_secret(name))


def parameter_to_secret(path: str) -> str:
    """``/a/b/c`` -> ``a.b.c``; ``db-password`` -> ``db-password`` (raises ``SecretNameError``)."""
    if not isinstance(path, str) or not path:
        raise SecretNameError("a parameter name must be a non-empty string")
    if ":" in path:
        raise SecretNameError(
            f"{path!r}: parameter versions and labels (NAME:VERSION) are not supported"
        )
    if "/" not in path:
        return _checked(path, path)
    if not path.startswith("/"):
        raise SecretNameError(f"{path!r}: a parameter name with '/' must start with '/'")
    return _slashes_to_dots(path[1:], path, path=True)


def secret_to_parameter(name: str) -> str:
    """``a.b.c`` -> ``/a/b/c``; ``db-password`` -> ``db-password``."""
    _checked(name, name)
    return "/" + name.replace(".", "/") if "." in name else name


def path_prefix(path: str) -> str:
    """A GetParametersByPath path -> the secret-name prefix under it (``/a/b`` -> ``a.b.``)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise SecretNameError(f"{path!r}: a parameter path starts with '/'")
    inner = path.strip("/")
    if not inner:
        return ""
    return _slashes_to_dots(inner, path, path=True) + "."


def parameter_arn(app: str, region: str, name: str) -> str:
    """The SSM ARN of secret ``name``: ``arn:aws:ssm:R:A:parameter/a/b`` (bare name: one slash)."""
    param = secret_to_parameter(name)
    sep = "" if param.startswith("/") else "/"
    return f"arn:aws:ssm:{region}:{account_id(app)}:parameter{sep}{param}"
