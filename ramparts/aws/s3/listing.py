"""One page of ListObjectsV2: prefix, delimiter, MaxKeys, continuation tokens.

Keys come from the store sorted, in batches starting after a cursor, so a
page costs what it returns, not the size of the bucket.  Keys that share
the part of their name up to the delimiter fold into one ``CommonPrefixes``
entry, which counts once towards ``MaxKeys`` as on S3.  The continuation
token is opaque to the caller (base64 of the last entry returned and whether
it was a common prefix); a token that does not decode is ``InvalidArgument``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from ramparts.aws.s3.errors import S3Error
from ramparts.store.base import ObjectRecord

_BATCH = 1000
_AFTER_PREFIX = "\U0010ffff"  # sorts after every key that starts with a given prefix

Fetch = Callable[[str, str, int], list[ObjectRecord]]  # (prefix, after, limit) -> keys > after


@dataclass
class Page:
    contents: list[ObjectRecord] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_token: str | None = None

    @property
    def count(self) -> int:
        return len(self.contents) + len(self.prefixes)


def encode_token(last: str, is_prefix: bool) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"k": last, "p": is_prefix})).decode()


def decode_token(token: str) -> str:
    """The cursor a token resumes after (past every key under a returned common prefix)."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        last, is_prefix = data["k"], data["p"]
        if not isinstance(last, str) or not isinstance(is_prefix, bool):
            raise TypeError
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise S3Error(
            "InvalidArgument", "The continuation token provided is incorrect", 400
        ) from None
    return last + _AFTER_PREFIX if is_prefix else last


def list_page(fetch: Fetch, prefix: str, delimiter: str, max_keys: int, after: str) -> Page:
    page = Page()
    cursor = after
    last_prefix: str | None = None
    if max_keys == 0:
        return page
    while True:
        batch = fetch(prefix, cursor, _BATCH)
        for rec in batch:
            cursor = rec.key
            rest = rec.key[len(prefix) :]
            cut = rest.find(delimiter) if delimiter else -1
            if cut >= 0:
                common = prefix + rest[: cut + len(delimiter)]
                if common == last_prefix:
                    continue
                if page.count >= max_keys:
                    page.truncated = True
                    return page
                page.prefixes.append(common)
                last_prefix = common
                page.next_token = encode_token(common, True)
                # skip the rest of this prefix's keys in the store, not here
                cursor = common + _AFTER_PREFIX
                break
            if page.count >= max_keys:
                page.truncated = True
                return page
            page.contents.append(rec)
            page.next_token = encode_token(rec.key, False)
        else:
            if len(batch) < _BATCH:
                page.next_token = None
                return page
            continue
        # a common prefix was folded: fetch again from past it
