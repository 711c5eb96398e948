"""Egress rules: what a manifest may say, and what each rule lets a function reach."""

from __future__ import annotations

import ipaddress

import pytest

from ramparts.sandbox.egress import EgressPolicy, EgressRule, parse_rule, parse_rules


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("api.example.com:443", EgressRule(port=443, host="api.example.com"), None),
        (
            "API.Example.COM:443",
            EgressRule(port=443, host="api.example.com"),
            "api.example.com:443",
        ),
        (
            "api.example.com.:443",
            EgressRule(port=443, host="api.example.com"),
            "api.example.com:443",
        ),
        ("*.example.org:443", EgressRule(port=443, host="example.org", wildcard=True), None),
        (
            "10.0.0.0/8:5432",
            EgressRule(port=5432, network=ipaddress.ip_network("10.0.0.0/8")),
            None,
        ),
        ("192.0.2.7:80", EgressRule(port=80, network=ipaddress.ip_network("192.0.2.7/32")), None),
        (
            "[2001:db8::1]:443",
            EgressRule(port=443, network=ipaddress.ip_network("2001:db8::1/128")),
            None,
        ),
        (
            "[2001:db8::/32]:443",
            EgressRule(port=443, network=ipaddress.ip_network("2001:db8::/32")),
            None,
        ),
        ("xn--bcher-kva.example:65535", EgressRule(port=65535, host="xn--bcher-kva.example"), None),
        ("a-b.c1.example:1", EgressRule(port=1, host="a-b.c1.example"), None),
    ],
)
def test_accepted_forms(text: str, expected: EgressRule, canonical: str | None) -> None:
    rule = parse_rule(text)
    assert rule == expected
    assert str(rule) == (canonical or text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*", "bare '*'"),
        ("*:443", "bare '*'"),
        ("*foo.com:443", "whole leftmost label"),
        ("a.*.com:443", "whole leftmost label"),
        ("*.*.com:443", "whole leftmost label"),
        (":443", "empty host"),
        ("", "empty entry"),
        ("https://api.example.com:443", "schemes are not allowed"),
        ("api.example.com/v1:443", "paths are not allowed"),
        ("api.example.com:443/v1", "paths are not allowed"),
        ("api.example.com :443", "whitespace"),
        (" api.example.com:443", "whitespace"),
        ("api.example.com:443\n", "whitespace"),
        ("api.example.com", "a port is required"),
        ("[2001:db8::1]", "a port is required"),
        ("api.example.com:0", "from 1 to 65535"),
        ("api.example.com:65536", "from 1 to 65535"),
        ("api.example.com:https", "from 1 to 65535"),
        ("api.example.com:", "from 1 to 65535"),
        ("2001:db8::1:443", "must be in brackets"),
        ("[192.0.2.7]:443", "brackets are only for IPv6"),
        ("[fe80::1%eth0]:443", "zone ids"),
        ("[::ffff:192.0.2.7]:443", "write the IPv4 address"),
        ("10.0.0.1/8:5432", "host bits set; did you mean '10.0.0.0/8'"),
        ("10.0.0.0/33:5432", "not a valid CIDR block"),
        ("bücher.example:443", "ASCII form: 'xn--bcher-kva.example'"),
        ("under_score.example:443", "letters, digits, hyphens and dots"),
        ("-lead.example:443", "may not start or end with a hyphen"),
        ("a..example:443", "empty label"),
        (("a" * 64) + ".example:443", "longer than 63"),
        (".".join(["abcdefgh"] * 29) + ":443", "longer than 253"),
        ("10.1:443", "looks like an IP address"),
        ("xn--zz.example:443", "not valid IDNA"),
    ],
)
def test_refused_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_rule(text)
    assert message in str(info.value)


def test_parse_rules_names_the_entry_and_drops_duplicates() -> None:
    rules = parse_rules(["api.example.com:443", "API.example.com:443", "10.0.0.0/8:5432"])
    assert [str(r) for r in rules] == ["api.example.com:443", "10.0.0.0/8:5432"]
    with pytest.raises(ValueError) as info:
        parse_rules(["api.example.com:443", "*:443"])
    assert str(info.value).startswith("egress[1] '*:443': a bare '*'")
    with pytest.raises(ValueError, match="a list"):
        parse_rules("api.example.com:443")


def _policy(*rules: str, forbidden: tuple[tuple[str, int], ...] = ()) -> EgressPolicy:
    return EgressPolicy(parse_rules(rules), forbidden=forbidden)


PUBLIC = "93.184.216.34"
PUBLIC6 = "2606:2800:220:1:248:1893:25c8:1946"


@pytest.mark.parametrize(
    ("rules", "host", "port", "addresses", "pinned"),
    [
        # exact names, case and trailing dot do not matter; the port does
        (["api.example.com:443"], "api.example.com", 443, [PUBLIC], PUBLIC),
        (["api.example.com:443"], "API.EXAMPLE.COM.", 443, [PUBLIC], PUBLIC),
        (["api.example.com:443"], "api.example.com", 80, [PUBLIC], None),
        (["api.example.com:443"], "www.example.com", 443, [PUBLIC], None),
        (["api.example.com:443"], "x.api.example.com", 443, [PUBLIC], None),
        # wildcards: any depth below, never the apex or a look-alike
        (["*.example.org:443"], "a.example.org", 443, [PUBLIC], PUBLIC),
        (["*.example.org:443"], "a.b.c.example.org", 443, [PUBLIC], PUBLIC),
        (["*.example.org:443"], "example.org", 443, [PUBLIC], None),
        (["*.example.org:443"], "badexample.org", 443, [PUBLIC], None),
        (["*.example.org:443"], "a.example.org.evil.com", 443, [PUBLIC], None),
        # CIDR and single addresses match IP literals (the resolved list is ignored)
        (["10.0.0.0/8:5432"], "10.20.30.40", 5432, [], "10.20.30.40"),
        (["10.0.0.0/8:5432"], "11.0.0.1", 5432, [], None),
        (["10.0.0.0/8:5432"], "10.0.0.1", 5433, [], None),
        (["192.0.2.7:80"], "192.0.2.7", 80, [], "192.0.2.7"),
        (["192.0.2.7:80"], "::ffff:192.0.2.7", 80, [], "192.0.2.7"),
        (["[2001:db8::1]:443"], "2001:db8::1", 443, [], "2001:db8::1"),
        (["[2001:db8::1]:443"], "[2001:DB8::1]", 443, [], "2001:db8::1"),
        (["[2001:db8::/32]:443"], "2001:db8:ffff::9", 443, [], "2001:db8:ffff::9"),
        (["[2001:db8::/32]:443"], "2001:db9::1", 443, [], None),
        # IP literals never match name rules, and names never match IP rules
        (["api.example.com:443"], PUBLIC, 443, [], None),
        (["10.0.0.0/8:443"], "db.internal", 443, ["10.0.0.5"], None),
        # name rules pin the first acceptable resolved address
        (["api.example.com:443"], "api.example.com", 443, ["127.0.0.1", PUBLIC6], PUBLIC6),
        (["api.example.com:443"], "api.example.com", 443, ["bogus", PUBLIC], PUBLIC),
        (["api.example.com:443"], "api.example.com", 443, ["10.1.2.3"], "10.1.2.3"),
        # ... and refuse loopback, link-local, metadata, unspecified, multicast behind a name
        (["api.example.com:443"], "api.example.com", 443, ["127.0.0.1"], None),
        (["api.example.com:443"], "api.example.com", 443, ["127.8.9.10"], None),
        (["api.example.com:443"], "api.example.com", 443, ["::1"], None),
        (["api.example.com:443"], "api.example.com", 443, ["::ffff:127.0.0.1"], None),
        (["api.example.com:443"], "api.example.com", 443, ["169.254.169.254"], None),
        (["api.example.com:443"], "api.example.com", 443, ["fe80::1"], None),
        (["api.example.com:443"], "api.example.com", 443, ["fd00:ec2::254"], None),
        (["api.example.com:443"], "api.example.com", 443, ["0.0.0.0"], None),
        (["api.example.com:443"], "api.example.com", 443, ["::"], None),
        (["api.example.com:443"], "api.example.com", 443, ["224.0.0.1"], None),
        (["api.example.com:443"], "api.example.com", 443, ["ff02::1"], None),
        (["api.example.com:443"], "api.example.com", 443, [], None),
        # an explicit IP/CIDR rule names loopback literally; a catch-all CIDR does not
        (["127.0.0.1:8080"], "127.0.0.1", 8080, [], "127.0.0.1"),
        (["127.0.0.0/8:8080"], "127.0.0.2", 8080, [], "127.0.0.2"),
        (["[::1]:8080"], "::1", 8080, [], "::1"),
        (["0.0.0.0/0:8080"], "127.0.0.1", 8080, [], None),
        (["0.0.0.0/0:80"], "169.254.169.254", 80, [], None),
        (["0.0.0.0/0:443"], PUBLIC, 443, [], PUBLIC),
        (["localhost:8080", "127.0.0.1:8080"], "localhost", 8080, ["127.0.0.1"], "127.0.0.1"),
        (["localhost:8080", "127.0.0.1:8081"], "localhost", 8080, ["127.0.0.1"], None),
    ],
)
def test_decide_matrix(
    rules: list[str], host: str, port: int, addresses: list[str], pinned: str | None
) -> None:
    got, reason = _policy(*rules).decide(host, port, addresses)
    assert got == pinned, reason
    if pinned is not None:
        assert reason.startswith("allowed by rule ")


def test_denial_reasons_say_why() -> None:
    policy = _policy("api.example.com:443")
    assert policy.decide("other.example.com", 443, [PUBLIC]) == (
        None,
        "no egress rule allows other.example.com:443",
    )
    assert policy.decide("api.example.com", 443, []) == (
        None,
        "api.example.com did not resolve to any address",
    )
    _, reason = policy.decide("api.example.com", 443, ["127.0.0.1"])
    assert "127.0.0.1 is a loopback address" in reason
    _, reason = policy.decide("api.example.com", 443, ["169.254.169.254"])
    assert "link-local" in reason
    _, reason = _policy("[2001:db8::1]:443").decide("2001:db8::2", 443, [])
    assert reason == "no egress rule allows [2001:db8::2]:443"


def test_forbidden_wins_over_explicit_rules() -> None:
    forbidden = (("127.0.0.1", 5432), ("10.0.0.5", 4222))
    policy = _policy("127.0.0.1:5432", "10.0.0.0/8:4222", "db.internal:4222", forbidden=forbidden)
    pinned, reason = policy.decide("127.0.0.1", 5432, [])
    assert pinned is None and "reserved for the node" in reason
    assert policy.decide("10.0.0.5", 4222, [])[0] is None
    assert policy.decide("10.0.0.6", 4222, [])[0] == "10.0.0.6"
    assert policy.decide("db.internal", 4222, ["10.0.0.5"])[0] is None
    assert policy.decide("db.internal", 4222, ["10.0.0.5", "10.0.0.7"])[0] == "10.0.0.7"


def test_forbidden_wildcard_listener_covers_loopback() -> None:
    policy = _policy(
        "127.0.0.0/8:8443", "[::1]:8443", "127.0.0.1:9000", forbidden=[("0.0.0.0", 8443)]
    )
    assert policy.decide("127.0.0.1", 8443, [])[0] is None
    assert policy.decide("127.3.2.1", 8443, [])[0] is None
    assert policy.decide("::1", 8443, [])[0] is None
    assert policy.decide("127.0.0.1", 9000, [])[0] == "127.0.0.1"


def test_match_admits_before_resolution() -> None:
    policy = _policy("*.example.org:443", "10.0.0.0/8:5432")
    assert str(policy.match("a.b.example.org", 443)) == "*.example.org:443"
    assert policy.match("example.org", 443) is None
    assert str(policy.match("10.9.9.9", 5432)) == "10.0.0.0/8:5432"
    assert policy.match("10.9.9.9", 5433) is None


def test_invalid_forbidden_entries_are_refused() -> None:
    with pytest.raises(ValueError):
        EgressPolicy((), forbidden=[("not-an-ip", 1)])
    with pytest.raises(ValueError):
        EgressPolicy((), forbidden=[("127.0.0.1", 0)])
