"""Redaction: secret values and secret-shaped strings never reach a log line or audit event.

Two kinds of matches are masked with ``***``:

* the exact values of secrets this node has handed out or stored (the secret
  store registers each value it reveals), wherever they appear;
* common secret shapes: ``Authorization``, ``Cookie`` and other ``*-auth*`` headers
  (``X-Auth-Token``, ``X-Custom-Auth``), bearer tokens, passwords
  in URLs, ``password=``/``api_key:`` style assignments, private key blocks,
  and well-known token formats (AWS access keys, GitHub, Slack, Stripe,
  Google API keys, Standard Webhooks ``whsec_`` keys, JWTs, and our own
  ``rk_`` API keys, ``rat_`` admin tokens and ``rpct_`` container tokens;
  the AWS secret keys and session tokens the node issues are registered as
  known values when issued).

It is applied where text leaves the node's control: every Python log record
(``install_log_redaction``), every free-text field of an audit event, and every
invocation's captured logs and error text before they are stored or
returned.

Personal data a handler echoes into an exception or a log line is masked too
(``redact_pii``): payment card numbers (only digit runs with a card network's
prefix and length that pass the Luhn check), e-mail addresses, phone numbers
in international (``+CC ...``) or North American ``(NNN) NNN-NNNN`` form,
IBANs (mod-97 checked) and US social security numbers (``NNN-NN-NNNN``).
That pass runs on what handlers produce (invocation logs and errors, dead
letters), not on node logs or the audit trail, whose principals may
legitimately be e-mail addresses.  The same shapes let the manifest refuse secret-looking
``environment:`` values at deploy.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words
_MAX_KNOWN = 4096

# Token formats that are secrets wherever they appear.
TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{10,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b"),
    re.compile(r"\brat_[A-Za-z0-9_\-]{32,}"),  # our own admin tokens
    re.compile(r"\brk_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}"),  # our own API keys (id + secret)
    re.compile(r"\brpct_[A-Za-z0-9_\-]{20,}"),  # our own AWS container-credentials tokens
)
# (pattern, replacement) pairs that keep the label and mask the value.
_LABELLED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)\b(authorization|proxy-authorization)(\s*[:=]\s*)([^\r\n,;]+)"),
        r"\1\2" + MASK,
    ),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=\-]{8,})"), r"\1\2" + MASK),
    # Cookie headers carry sessions; custom auth headers (X-Auth-Token, X-Custom-Auth ...)
    # carry credentials.  ``auth`` must be joined to another word by ``-``/``_``: a bare
    # ``auth: none`` is the manifest field, in messages that must stay readable.  Raw
    # (``Cookie: a=b; c=d``), JSON and Python-repr (``'cookie': 'a=b'``) spellings: the
    # whole value up to the line or quote.
    # The HTTP event's ``cookies`` list (``'cookies': ['a=b', 'c=d']``): every element.
    (re.compile(r"(?i)(\bcookies\"?'?\s*[:=]\s*\[)([^\]\r\n]+)(\])"), r"\1" + MASK + r"\3"),
    (
        re.compile(
            r"(?i)\b((?:set-)?cookie|[A-Za-z0-9_\-]{0,64}[_\-]auth(?:entication)?(?![A-Za-z])"
            r"[A-Za-z0-9_\-]{0,64}|auth(?:entication)?[_\-][A-Za-z0-9_\-]{1,64})"
            r"(\"?'?\s*[:=]\s*\"?'?)([^\r\n\"']{4,})"
        ),
        r"\1\2" + MASK,
    ),
    (
        re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,31}://[^/\s:@]*:)([^@\s/]+)(@)"),
        r"\1" + MASK + r"\3",
    ),
    (
        re.compile(
            r"(?i)\b([A-Za-z0-9_\-]{0,64}(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|"
            r"access[_\-]?key|private[_\-]?key|client[_\-]?secret|credentials?)[A-Za-z0-9_\-]{0,64})"
            r"(\"?'?\s*[:=]\s*\"?'?)([^\s\"',;&}]{4,})"
        ),
        r"\1\2" + MASK,
    ),
)
# What any of the patterns above needs in order to match: one search of these (the second
# on the lower-cased text) skips them all for request ids, paths and names, the bulk of
# what logs and the audit trail carry (the last labelled pattern alone backtracks for tens
# of microseconds over every word).
_TOKEN_HINT = re.compile(
    r"-----BEGIN|AKIA|ASIA|gh[pousr]_|github_pat_|xox|_live_|_test_|whsec_|AIza|eyJ|rat_|rk_|"
    r"rpct_"
)
_LABEL_HINT = re.compile(
    r"auth|cookie|bearer|basic|://|password|passwd|pwd|secret|token|api[_\-]?key|"
    r"access[_\-]?key|private[_\-]?key|credential"
)
SENSITIVE_NAME = re.compile(
    r"(?i)(password|passwd|secret|token|api[_\-]?key|apikey|private[_\-]?key|credential|"
    r"access[_\-]?key|auth)"
)


_CACHE_MAX_CHARS = 200
_CACHE_ENTRIES = 4096


class Redactor:
    """Masks known secret values and secret shapes in text."""

    def __init__(self) -> None:
        self._known: dict[str, None] = {}  # insertion-ordered set, bounded
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        # Results for short, repeated strings (an audit record's principal, action, route,
        # reason, address): one dict lookup instead of a dozen regex passes per request.
        # Each entry carries the generation it was computed under; add_secret starts a new
        # one, so nothing computed before a secret was known is ever served after.
        self._generation = 0
        self._cache: dict[tuple[str, bool], tuple[int, str]] = {}

    def add_secret(self, value: str) -> None:
        """Remember a secret value so it is masked wherever it shows up."""
        if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
            return
        with self._lock:
            if value in self._known:
                return
            self._known[value] = None
            self._generation += 1
            self._cache = {}
            while len(self._known) > _MAX_KNOWN:
                self._known.pop(next(iter(self._known)))
            # longest first, so a value containing another is masked whole
            ordered = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        if _TOKEN_HINT.search(text):
            for token in TOKEN_PATTERNS:
                text = token.sub(MASK, text)
        if _LABEL_HINT.search(text.lower()):
            for labelled, replacement in _LABELLED:
                text = labelled.sub(replacement, text)
        return text

    def redact_cached(self, text: str, *, values_only: bool = False) -> str:
        """``redact`` (or ``redact_values``) with the result remembered for short strings."""
        if len(text) > _CACHE_MAX_CHARS:
            return self.redact_values(text) if values_only else self.redact(text)
        generation = self._generation  # read first: a later add_secret invalidates this
        hit = self._cache.get((text, values_only))
        if hit is not None and hit[0] == generation:
            return hit[1]
        out = self.redact_values(text) if values_only else self.redact(text)
        cache = self._cache
        if len(cache) >= _CACHE_ENTRIES:
            cache.clear()
        cache[(text, values_only)] = (generation, out)
        return out

    def redact_values(self, text: str) -> str:
        """Mask known secret values and token formats only, not ``name: value`` shapes.

        For identifiers (an audit record's principal, action, resource): their own
        ``secrets:APP:secret/NAME`` or ``secret:NAME`` syntax looks like an assignment to
        the labelled patterns, which would mask the name and leave the record useless.
        """
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        if _TOKEN_HINT.search(text):
            for token in TOKEN_PATTERNS:
                text = token.sub(MASK, text)
        return text

    def redact_obj(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (keys stay as they are)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_obj(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_obj(v) for v in value]
        return value


#: The node-wide redactor: the secret store feeds it, logs and audit use it.
redactor = Redactor()

# -- personal data ---------------------------------------------------------------------------
# 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer number.
_CARD = re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d]|[.-]\d)")
# Issuer prefixes of the card networks, with the lengths they issue.
_CARD_NETWORKS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({13, 16, 19})),  # Visa
    (re.compile(r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)"), frozenset({16})),
    (re.compile(r"3[47]"), frozenset({15})),  # American Express
    (re.compile(r"6(?:011|5|4[4-9])"), frozenset({16, 19})),  # Discover
    (re.compile(r"35(?:2[89]|[3-8])"), frozenset({16, 19})),  # JCB
    (re.compile(r"3(?:0[0-5]|[68])"), frozenset({14, 16, 19})),  # Diners Club
    (re.compile(r"62"), frozenset({16, 17, 18, 19})),  # UnionPay
    (re.compile(r"5018|5020|5038|5893|6304|6759|676[1-3]"), frozenset(range(12, 20))),  # Maestro
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b"
)
_PHONE = re.compile(
    r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])"
    r"|(?<![\w(])\(\d{3}\) ?\d{3}[ .-]\d{4}(?!\w)"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    for prefix, lengths in _CARD_NETWORKS:
        if len(digits) in lengths and prefix.match(digits) and _luhn_ok(digits):
            return MASK
    return match.group(0)


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return MASK if 8 <= digits <= 15 else match.group(0)


def _mask_iban(match: re.Match[str]) -> str:
    compact = match.group(0).replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return MASK if 15 <= len(compact) <= 34 and int(number) % 97 == 1 else match.group(0)


def redact_pii(text: str) -> str:
    """Mask payment cards, e-mail addresses, phone numbers, IBANs and US SSNs in ``text``."""
    if not text:
        return text
    if any(c.isdigit() for c in text):
        text = _CARD.sub(_mask_card, text)
        text = _IBAN.sub(_mask_iban, text)
        text = _SSN.sub(MASK, text)
        if "+" in text or "(" in text:
            text = _PHONE.sub(_mask_phone, text)
    if "@" in text:
        text = _EMAIL.sub(MASK, text)
    return text


def redact_text(text: str) -> str:
    """Secrets and personal data: for text a handler produced (errors, logs, dead letters)."""
    return redact_pii(redactor.redact(text))


# Bounded repeats: an unbounded scheme or label run made these quadratic on long words
# (a 2 MB value took minutes); no real scheme or variable name is longer than the bound.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^/\s:@]*:[^@\s/]+@")
_ARN_RE = re.compile(r"^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:\S+$")
# A path in the usual style of secret and parameter names: lowercase words (a number may
# end one) joined by - _ . and at least one /: prod/db/password, /myapp/prod/db-password.
# Without a / (db-password, correct-horse-battery) it may be a passphrase: not a reference.
_WORD = r"(?:[a-z]+[0-9]*|[0-9]+)"
_SEGMENT = rf"{_WORD}(?:[-_.]{_WORD})*"
_NAME_RE = re.compile(rf"^/?{_SEGMENT}(?:/{_SEGMENT})+$")


def looks_like_reference(value: str) -> bool:
    """True for a value that names a secret rather than holding one: an ARN, or a
    path of plain lowercase words (``prod/db/password``, ``/myapp/db-password``).

    Lambda code keeps such references in variables named ``DB_PASSWORD_SECRET``
    and looks the value up itself.  Words without a ``/`` (``correct-horse-battery``),
    mixed case or digits inside a word (``hunter2hunter2XyZ``) are not references:
    they may be the secret.
    Known token formats are refused before this is asked.
    """
    plain = value.strip()
    return bool(_ARN_RE.match(plain) or _NAME_RE.match(plain))


def looks_like_secret(name: str, value: str) -> str | None:
    """Why an ``environment:`` entry looks like a secret, or None.

    A value in a known token format is a secret whatever its name; a value
    under a sensitive name (``*_PASSWORD``, ``API_KEY``...) is one when it
    looks like a credential rather than a setting (8+ characters, no spaces,
    not just a number or a boolean) or a reference (``looks_like_reference``).
    """
    for token in TOKEN_PATTERNS:
        if token.search(value):
            return "its value has the shape of a credential"
    if _URL_PASSWORD.search(value):
        return "its value is a URL with a password"
    if SENSITIVE_NAME.search(name) and not looks_like_reference(value):
        plain = value.strip()
        if (
            len(plain) >= 8
            and not re.search(r"\s", plain)
            and not re.fullmatch(r"[0-9.]+|true|false|yes|no|on|off", plain, re.I)
        ):
            return "its name says it holds a credential"
    return None


class _RedactingRecordFactory:
    """Wraps the log-record factory so every record's message is redacted once, at birth."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the record, redact the template
            message = str(record.msg)
        record.msg = redactor.redact(message)
        record.args = None
        return record


class _RedactingFilter(logging.Filter):
    """On handlers: also redact formatted tracebacks, which records carry unformatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redactor.redact(record.exc_text)
        return True


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(current))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _RedactingFilter) for f in handler.filters):
            handler.addFilter(_RedactingFilter())


def redact_result(result: Any) -> None:
    """Mask secrets and personal data in an invocation's captured logs and errors, in place."""
    for field in ("logs", "error_message", "traceback"):
        value = getattr(result, field, None)
        if isinstance(value, str) and value:
            setattr(result, field, redact_text(value))
