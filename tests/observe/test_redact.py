"""Personal data in handler-produced text: masked where it is, left alone where it is not."""

from __future__ import annotations

import pytest

from ramparts.observe.redact import MASK, Redactor, redact_pii, redact_text


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111 declined",
        "card 4111-1111-1111-1111 declined",
        "card=4111111111111111",
        "ValueError: bad card 5555555555554444",
        "amex 378282246310005",
        "mastercard 2-series 2223003122003222",
        "ValueError: T201: 2720990000000007",
        "maestro 6759649826438453",
        "discover 6011111111111117.",
        "mail bob.smith+orders@example.co.uk now",
        "call +44 20 7946 0958 please",
        "call +1-202-555-0143",
        "us (202) 555-0143",
        "iban GB82 WEST 1234 5698 7654 32",
        "iban DE89370400440532013000",
        "ssn 078-05-1120",
    ],
)
def test_pii_is_masked(text: str) -> None:
    out = redact_pii(text)
    assert MASK in out, out
    for secret in ("4111", "5555555555554444", "378282246310005", "6011111111111117",
                   "bob.smith", "7946", "555-0143", "WEST 1234", "0532013000", "078-05",
                   "2223003122003222", "2720990000000007", "6759649826438453"):
        assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "request 1733150000123456789 took 12 ms",  # a nanosecond timestamp
        "card 4111 1111 1111 1112 declined",  # fails the Luhn check
        "order 1234567890123456",  # Luhn-valid? no network prefix 1
        "version 2024.11.30 build 3",
        "at 2026-12-02 20:16:55,925",
        "ids 123-45-67890 and 000-12-3456",
        "span 9,999,999 of 10,000,000",
        "user@localhost has no domain",
        "IBAN-like GB00WEST12345698765432 with a bad checksum",
        "uuid 1d45343e-529d-41b9-bff9-25a01baa60a3",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_pii(text) == text


def test_redact_text_does_both() -> None:
    out = redact_text("password=hunter22 card 4111111111111111")
    assert "hunter22" not in out and "4111111111111111" not in out


def test_long_words_are_scanned_in_linear_time() -> None:
    # second adversarial review: unbounded label and URL-scheme runs made these quadratic,
    # so a 2 MB value (a handler's log line, an imported variable) took many minutes
    from ramparts.observe.redact import looks_like_secret

    redactor = Redactor()  # its own: the node-wide one holds values other tests registered
    word = "q" * 2_000_000
    assert redactor.redact("token " + word) == "token " + word
    assert looks_like_secret("A", word) is None
    assert redactor.redact("db_password=hunter2hunter2") == "db_password=***"


def test_a_cached_result_is_never_served_after_a_secret_becomes_known() -> None:
    """The audit log asks for the same short strings on every request; the cache that
    spares it the regex passes must not keep serving a text that now holds a secret."""
    r = Redactor()
    text = "topic/orders-Zq8Wd2Lr5Tz1Yx4P"
    assert r.redact_cached(text) == text
    assert r.redact_cached(text, values_only=True) == text
    r.add_secret("Zq8Wd2Lr5Tz1Yx4P")
    assert "Zq8Wd2Lr5Tz1Yx4P" not in r.redact_cached(text)
    assert "Zq8Wd2Lr5Tz1Yx4P" not in r.redact_cached(text, values_only=True)
    # the two modes differ and are cached apart: a labelled value is masked by one only
    labelled = "password=hunter22"
    assert r.redact_cached(labelled, values_only=True) == labelled
    assert "hunter22" not in r.redact_cached(labelled)
    # long texts bypass the cache and are still redacted
    long_text = "x" * 500 + "Zq8Wd2Lr5Tz1Yx4P"
    assert "Zq8Wd2Lr5Tz1Yx4P" not in r.redact_cached(long_text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Cookie: session=cookiesecret456; theme=dark", "cookiesecret456"),
        ("set-cookie: sid=cookiesecret456; HttpOnly", "cookiesecret456"),
        ("{'cookie': 'session=cookiesecret456', 'accept': '*/*'}", "cookiesecret456"),
        ('{"x-custom-auth": "customsecret321"}', "customsecret321"),
        ("X-Auth-Token: customsecret321", "customsecret321"),
        ("{'cookies': ['theme=dark', 'session=cookiesecret456']}", "cookiesecret456"),
        ("{'x-authentication': 'customsecret321'}", "customsecret321"),
    ],
)
def test_cookie_and_custom_auth_headers_are_masked(text: str, secret: str) -> None:
    """adv-irp3 F7: a handler printing its request headers leaked cookies and custom auth
    headers into invocation records and from there into signed incident exports."""
    out = Redactor().redact(text)
    assert secret not in out and MASK in out, out


@pytest.mark.parametrize(
    "text",
    [
        "the author: John Smith",
        "{'accept': '*/*', 'user-agent': 'curl/8'}",
        "functions.web.triggers[0].http.auth: must be one of none, api_key",
        "no credential for auth: api_key",
    ],
)
def test_words_near_auth_are_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text
