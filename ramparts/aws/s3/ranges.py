"""HTTP byte ranges as S3 reads them (``Range: bytes=a-b``, ``bytes=a-``, ``bytes=-n``).

``download_file`` fetches big objects in ranged GETs; ``parse_range`` turns the
header into the slice to send.  A header S3 would ignore (several ranges,
another unit, garbage) means the whole object; a well-formed range that starts
past the end is ``InvalidRange`` (416), as on S3.
"""

from __future__ import annotations

import re

from ramparts.aws.s3.errors import S3Error

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte of ``header`` in an object of ``size`` bytes.

    ``None``: send the whole object (no header, or one S3 ignores).
    """
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    first_s, last_s = m.groups()
    if not first_s:  # suffix: the last n bytes
        n = int(last_s)
        if n == 0 or size == 0:
            raise invalid_range(header, size)
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # RFC 9110: an invalid range-spec is ignored
    if first >= size:
        raise invalid_range(header, size)
    return first, min(last, size - 1)


def invalid_range(header: str, size: int) -> S3Error:
    return S3Error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        RangeRequested=header,
        ActualObjectSize=str(size),
    )
