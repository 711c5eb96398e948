"""One CWE per weakness, across our rules and bandit's.

Bandit numbers some weaknesses differently from our rules (md5 of a password
is CWE-327 through B324 and CWE-328 through RP-L007) or with a CWE that is
not the weakness its test looks for (B310 ``urlopen`` is CWE-22; B104 binding
``0.0.0.0`` is CWE-605, "multiple binds to the same port").  The gate reports
bandit's findings with the CWE below instead, so one line flagged by two
rules carries one CWE.  Where two candidates exist the more specific standard
one wins (CWE-328 "weak hash" over CWE-327 "broken crypto").  Every entry is
listed, with its reason, in docs/scanning.md ("Bandit rules we change");
tests/scan/test_cwe_consistency.py checks every rule the gate can report
against one table of weaknesses.
"""

from __future__ import annotations

BANDIT_CWE: dict[str, str] = {
    # code injection, as RP-T001 and RP-G005 (bandit: OS command injection, CWE-78)
    "B102": "CWE-94", "B307": "CWE-94",
    # unsafe deserialisation, as RP-T004 (bandit: improper input validation, CWE-20)
    "B506": "CWE-502",
    # hardcoded credentials, as RP-S001/RP-L006/RP-I010 (bandit: CWE-259, passwords only)
    "B105": "CWE-798", "B106": "CWE-798", "B107": "CWE-798",
    # XSS, as RP-T012 (bandit: CWE-94 for B701, CWE-80 for B702/B703)
    "B701": "CWE-79", "B702": "CWE-79", "B703": "CWE-79",
    # weak hash, as RP-L007 (bandit: broken crypto, CWE-327; ciphers B304/B305 keep it)
    "B303": "CWE-328", "B324": "CWE-328",
    # a URL opened whatever its scheme or host: SSRF, as RP-T006 (bandit: CWE-22)
    "B310": "CWE-918",
    # XML parsers and their imports: external entities, as RP-T013 (bandit: CWE-20;
    # B320/B410, lxml, are gone from bandit since 1.8: defusedxml no longer wraps it)
    **{f"B{n}": "CWE-611" for n in (*range(313, 320), *range(405, 410), 411)},
    # binding every interface (bandit: CWE-605, multiple binds to the same port)
    "B104": "CWE-1327",
    # Flask debug mode: active debug code (bandit: CWE-94, which is RP-T001's)
    "B201": "CWE-489",
    # a program found through PATH: untrusted search path (bandit: CWE-78, which is RP-T002's)
    "B607": "CWE-426",
}


def for_bandit(test_id: str, bandit_cwe: str | None) -> str | None:
    """The CWE the gate reports for a bandit finding (bandit's own unless listed above)."""
    return BANDIT_CWE.get(test_id, bandit_cwe)
