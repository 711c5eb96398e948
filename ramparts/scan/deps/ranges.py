"""Version ranges: the lowest and highest release a bounded specifier admits.

A range such as ``==2.10.*`` or ``>=1.24.1,<=1.24.1`` is checked against an
advisory through its lower bound (``check.py``); these helpers compute it.
"""

from __future__ import annotations

from packaging.requirements import Requirement as Pep508
from packaging.version import InvalidVersion, Version


def range_bounds(req: Pep508) -> tuple[Version, Version, bool] | None:
    """Lowest and highest version a bounded range admits (``==2.10.*``, ``~=2.0.0``, ``>=a,<=b``).

    The lowest is a version no release the range admits lies below: the lowest
    admitted one, an exclusive lower bound itself (``>5.2``), or ``0`` when the
    range has no lower bound (``<5.4``).  An advisory that affects it and is fixed
    only beyond the highest therefore affects every admitted release.  The
    highest is exclusive unless the flag says inclusive.  None when the range is
    open above.
    """
    if req.url:
        return None
    low: Version | None = None
    high: tuple[Version, bool] | None = None
    try:
        for sp in req.specifier:
            op, text = sp.operator, sp.version
            if op == "==" and text.endswith(".*"):
                base = Version(text[:-2])
                rel = list(base.release)
                low, high = _max_low(low, base), _min_high(high, (_bump(rel, len(rel)), False))
            elif op == "~=":
                base = Version(text)
                rel = list(base.release)
                low = _max_low(low, base)
                high = _min_high(high, (_bump(rel, len(rel) - 1), False))
            elif op == ">":
                low = _max_low(low, Version(text))
            elif op in (">=", "=="):
                low = _max_low(low, Version(text))
                if op == "==":
                    high = _min_high(high, (Version(text), True))
            elif op == "<=":
                high = _min_high(high, (Version(text), True))
            elif op == "<":
                high = _min_high(high, (Version(text), False))
    except InvalidVersion:
        return None
    if high is None:
        return None
    return low if low is not None else Version("0"), high[0], high[1]


def _bump(release: list[int], keep: int) -> Version:
    """The release after every ``release[:keep].*``: 2.10 -> 2.11 (keep 2), 2.0.0 -> 2.1."""
    head = release[: max(keep, 1)]
    head[-1] += 1
    return Version(".".join(map(str, head)))


def _max_low(current: Version | None, new: Version) -> Version:
    return new if current is None or new > current else current


def _min_high(
    current: tuple[Version, bool] | None, new: tuple[Version, bool]
) -> tuple[Version, bool]:
    if current is None or new[0] < current[0] or (new[0] == current[0] and not new[1]):
        return new
    return current


def beyond(fixed: Version, high: Version, inclusive: bool) -> bool:
    return fixed > high if inclusive else fixed >= high
