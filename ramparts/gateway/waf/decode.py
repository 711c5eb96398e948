"""Normalisation of an inspected value before the WAF's rules see it.

Attackers hide payloads behind encodings the handler (or a library under it)
undoes later: ``%2527`` becomes ``%27`` becomes ``'``, ``&lt;script&gt;`` is a
tag once an HTML template unescapes it, ``ｓｅｌｅｃｔ`` (fullwidth) is
``select`` after NFKC.  Rules therefore match the value as decoded as far as
it goes: repeated URL-decoding (``%XX`` and IIS-style ``%uXXXX``), HTML
entities, backslash escapes (``\\xNN``, ``\\uNNNN``), Unicode NFKC, null bytes
removed; then folded (lower case, SQL comments and runs of whitespace
collapsed to one space) for pattern rules.

Every loop is bounded (``MAX_ROUNDS``) and every regex here is linear: a
value that keeps decoding after that many rounds is decoded that far, and the
engine judges what it got.
"""

from __future__ import annotations

import binascii
import html
import re
import unicodedata
from base64 import b64decode
from urllib.parse import unquote

MAX_ROUNDS = 4  # %252527 -> %2527 -> %27 -> ': three rounds; a fourth catches one more layer

_IIS_UNICODE = re.compile(r"%u([0-9a-fA-F]{4})")
# Overlong UTF-8 spellings of '.', '/' and '\' that old decoders accepted (%c0%ae%c0%ae%c0%af)
_OVERLONG = re.compile(r"%(?:c0%(ae|af)|e0%80%(ae|af)|c1%(9c|1c|8s))", re.IGNORECASE)
_OVERLONG_CHARS = {"ae": ".", "af": "/", "9c": "\\", "1c": "\\", "8s": "\\"}
_BACKSLASH = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\})")
# A C-style comment, unrolled so it never backtracks: /* ... */
_SQL_COMMENT = re.compile(r"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/")
# Runs of whitespace, and single whitespace characters other than " ": what fold() turns into
# one space.  A lone " " (most of any text) is left alone, which gives the same result
# as replacing every \s+ and skips a substitution per word.  Longest run first.  Written
# to start with \s (not as ``\s{2,}|[^\S ]``) so that ``re`` skips to the next whitespace
# character in C instead of trying the pattern at every position.
_SPACE = re.compile(r"\s(?:\s+|(?<! ))")
_NOT_A_SPACE = re.compile(r"[^\S ]")  # whitespace other than " ": with no "  ", all _SPACE finds
# MySQL runs what a versioned comment holds: /*!50000UNION*/ is UNION, not a comment
_VERSIONED = re.compile(r"/\*!\d{0,6}([^*]{0,200})\*/")
_SLASHES = str.maketrans(
    {"\u2215": "/", "\u2044": "/", "\u29f8": "/", "\u2216": "\\", "\u29f5": "\\"}
)
_SLASHES_IN = re.compile("[\u2215\u2044\u29f8\u2216\u29f5]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS_DECODING = frozenset("%&\\\x00")
# A whole value in base64 (standard or URL-safe alphabet): handlers base64-decode fields
# ("data", "payload", cookies) and then use the text.  Padded to a multiple of four, as
# encoders write it; from 256 characters on the engine skips pure base64 values anyway.
_BASE64 = re.compile(r"[A-Za-z0-9+/]{6,255}={0,2}|[A-Za-z0-9_-]{6,255}={0,2}")
_BASE64_MIN, _BASE64_MAX = 8, 256
_BASE64_URLSAFE = str.maketrans("-_", "+/")


def _char(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _backslash(match: re.Match[str]) -> str:
    hexdigits = match.group(1) or match.group(2) or match.group(3)
    return _char(int(hexdigits, 16))


def _decode_once(value: str) -> str:
    if "%" in value:
        if "%c" in value or "%C" in value or "%e0" in value or "%E0" in value:
            value = _OVERLONG.sub(
                lambda m: _OVERLONG_CHARS[(m.group(1) or m.group(2) or m.group(3)).lower()], value
            )
        if "%u" in value or "%U" in value:
            value = _IIS_UNICODE.sub(lambda m: _char(int(m.group(1), 16)), value)
        value = unquote(value, errors="replace")
    if "&" in value:
        value = html.unescape(value)
    if "\\" in value:
        value = _BACKSLASH.sub(_backslash, value)
    return value


def _base64_text(value: str) -> str | None:
    """The text a whole-value base64 string holds, if it is printable text; else None.

    Random tokens and ids in the base64 alphabet decode to bytes that are not all
    printable (for 6 random bytes about 1 in 400, and rarer with every byte), so
    only an encoded text is replaced by its decoding -- the base64 itself holds
    no payload, and text decoded from a random token is gibberish no rule reads.
    """
    if len(value) % 4 or value.islower() or value.isupper() or not _BASE64.fullmatch(value):
        # base64 of text is mixed case (every group starts with a letter from I to f):
        # words, hex ids and UUIDs are not, and are not decoded at all
        return None
    try:
        raw = b64decode(value.translate(_BASE64_URLSAFE), validate=True)
    except binascii.Error:
        return None
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        try:
            text = raw.decode("utf-8")
        except ValueError:
            return None
    if not text.isprintable() and not all(c.isprintable() or c in "\t\n\r" for c in text):
        return None
    return text


def decode(value: str) -> str:
    """``value`` with every layer of encoding undone (bounded), NFKC-normalised, no NULs.

    The common case -- plain ASCII with nothing to decode -- returns at once.
    """
    n = len(value)
    if not n % 4 and _BASE64_MIN <= n < _BASE64_MAX and " " not in value and value.isascii():
        text = _base64_text(value)
        if text is not None:
            value = text
    if value.isascii() and _NEEDS_DECODING.isdisjoint(value):
        return value
    for _ in range(MAX_ROUNDS):
        decoded = _decode_once(value)
        if decoded == value:
            break
        value = decoded
    if _BASE64_MIN <= len(value) < _BASE64_MAX and value.isascii() and " " not in value:
        text = _base64_text(value)  # base64 sent URL-encoded (%3D padding, %2B)
        if text is not None:
            value = _decode_once(text)
    if not value.isascii() and not unicodedata.is_normalized("NFKC", value):
        value = unicodedata.normalize("NFKC", value)
        # NFKC can itself produce new escapes (fullwidth ％２７ -> %27): one more pass
        value = _decode_once(value)
    if not value.isascii() and _SLASHES_IN.search(value):
        # division and fraction slashes: Windows' best-fit code pages and some path
        # APIs read them as "/" ("..\u2215..\u2215etc\u2215passwd"); NFKC keeps them
        value = value.translate(_SLASHES)
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        # \ud83d\ude00 and %uD83D%uDE00 decode to UTF-16 halves: pairs joined, lone ones
        # replaced, so no later step (NFKC, libinjection's UTF-8) meets an unencodable str
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        if not value.isascii() and not unicodedata.is_normalized("NFKC", value):
            value = unicodedata.normalize("NFKC", value)
    return value


def fold(value: str) -> str:
    """The form pattern rules match: lower case, SQL comments and whitespace runs as one space."""
    value = value.lower()
    if "/*" in value:
        if "/*!" in value:
            value = _VERSIONED.sub(r" \1 ", value)
        value = _SQL_COMMENT.sub(" ", value)
    if "  " not in value and _NOT_A_SPACE.search(value) is None:
        return value  # prose: single spaces only, nothing to replace (one C scan, no sub)
    return _SPACE.sub(" ", value)
