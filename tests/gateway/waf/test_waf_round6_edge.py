"""Round 6 of the rule tuning (issue 15), SSRF, scanners and command injection.

Each test pairs an attack family with its benign twin -- the traffic that looks
most like it -- so a rule that widened into ordinary values fails one side.
The families are the ones tuning/batch8.py adds.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from ramparts.gateway.waf.engine import Verdict, Waf, compile_exclusion
from ramparts.gateway.waf.request import WafRequest
from tests.gateway.waf.waf_requests import header_request, json_request, query_request

WAF = Waf()


def _rules(verdict: Verdict) -> set[str]:
    return {m.rule for m in verdict.matches}


def _both(value: str) -> list[Verdict]:
    return [WAF.inspect(json_request(value, deep=True)), WAF.inspect(query_request(value))]


def _blocked_by(value: str, rule: str) -> None:
    for verdict in _both(value):
        assert rule in _rules(verdict), (value, _rules(verdict))
        assert verdict.blocked, value


def _passes(value: str) -> None:
    for verdict in _both(value):
        assert not verdict.blocked, (value, verdict.matches)


def _get(path: str, *headers: tuple[str, str]) -> WafRequest:
    return WafRequest("GET", path, "", [("user-agent", "Mozilla/5.0"), *headers], b"", "",
                      f"GET {path}")


# -- the query of a Referer is inspected value by value ---------------------------------
@pytest.mark.parametrize(
    ("target", "rule"),
    [
        ("http://127.0.0.1:8000/admin", "ssrf-internal-url"),
        ("http://localhost:9200/_cat/indices", "ssrf-internal-url"),
        ("; cat /etc/passwd", "cmdi-shell-structure"),
    ],
)
def test_referer_query_values_are_inspected(target: str, rule: str) -> None:
    referer = "https://app.example.com/import?" + urlencode({"source": target, "step": "2"})
    verdict = WAF.inspect(_get("/api/import", ("referer", referer)))
    assert rule in _rules(verdict), _rules(verdict)
    assert verdict.blocked
    assert any(m.location == "header.referer.source" for m in verdict.matches)


@pytest.mark.parametrize(
    "referer",
    [
        "https://app.example.com/orders?status=open&page=2",
        "https://app.example.com/login?next=https%3A%2F%2Fapp.example.com%2Fhome",
        "http://localhost:3000/login?next=http%3A%2F%2Flocalhost%3A3000%2Fhome",
        "https://www.google.com/search?q=ramparts+localhost+refused+connection",
        "https://app.example.com/files?path=%2Fhome%2Fana%2Freports",
    ],
)
def test_ordinary_and_developer_referers_pass(referer: str) -> None:
    verdict = WAF.inspect(_get("/api/items", ("referer", referer)))
    assert not verdict.blocked, verdict.matches


def test_an_exclusion_of_the_referer_covers_its_query_values() -> None:
    referer = "https://app.example.com/import?" + urlencode({"source": "http://127.0.0.1:8000/"})
    req = _get("/api/import", ("referer", referer))
    waf = Waf(exclusions=[compile_exclusion("*", "header.referer", [])])
    assert WAF.inspect(req).blocked
    assert not waf.inspect(req).blocked


# -- SSRF spellings: wildcard and rebinding DNS, service-discovery names, metadata paths --
@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("http://127.0.0.1.traefik.me/", "ssrf-internal-url"),
        ("http://7f000001.c0a80001.rbndr.us/", "ssrf-internal-url"),
        ("http://make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms/", "ssrf-internal-url"),
        ("http://consul.service.consul:8500/v1/agent/self", "ssrf-internal-url"),
        ("url=http://127.0.0.1/admin&x=1", "ssrf-internal-url"),
        ("[::1]:6379", "ssrf-internal-host"),
        ("smb://evil.example/share", "ssrf-scheme"),
        ("https://evil.example/opc/v2/instance/", "ssrf-metadata-path"),
        ("https://evil.example/metadata/v1.json", "ssrf-metadata-path"),
        ("https://evil.example/computeMetadata/v1beta1/instance/", "ssrf-metadata-path"),
        ("https://evil.example/openstack/latest/meta_data.json", "ssrf-metadata-path"),
    ],
)
def test_less_common_ssrf_spellings_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "https://nip.io/",
        "https://8.8.8.8.nip.io/",
        "https://1-2-3-4.sslip.io/health",
        "https://docs.digitalocean.com/reference/api/metadata-api/",
        "https://api.example.com/v1/metadata/instance-types",
        "127.0.0",
        "10.4.2",
        "config.db.host",
        "com.example.app.Main",
        "/home/ana/projects/site/.env.example",
    ],
)
def test_public_urls_versions_and_dotted_names_pass(text: str) -> None:
    _passes(text)


# -- SSRF through headers and the path ---------------------------------------------------
@pytest.mark.parametrize(
    ("header", "value", "rule"),
    [
        ("user-agent", "127.0.0.1:6379", "ssrf-internal-host"),
        ("user-agent", "http://localhost/admin", "ssrf-internal-url"),
        ("host", "169.254.169.254", "ssrf-metadata-host-header"),
        ("x-forwarded-host", "metadata.google.internal", "ssrf-metadata-host-header"),
        ("referer", "169.254.169.254:80", "ssrf-internal-host"),
    ],
)
def test_internal_hosts_in_headers_are_blocked(header: str, value: str, rule: str) -> None:
    verdict = WAF.inspect(header_request(header, value))
    assert rule in _rules(verdict), _rules(verdict)
    assert verdict.blocked


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("host", "api.example.com"),
        ("host", "localhost:8080"),
        ("referer", "http://localhost:3000/dashboard"),
        ("origin", "http://127.0.0.1:5173"),
        ("x-forwarded-host", "app.example.com:8443"),
        ("user-agent", "MyShop/5.2.1 (iPhone; iOS 17.4; Scale/3.00)"),
        ("user-agent", "ory-hydra/v2.2.0"),
        ("user-agent", "Go-http-client/1.1"),
    ],
)
def test_ordinary_hosts_and_clients_in_headers_pass(header: str, value: str) -> None:
    assert not WAF.inspect(header_request(header, value)).blocked


@pytest.mark.parametrize(
    "path", ["/proxy/169.254.169.254:80/latest", "/api/fetch/0x7f000001/", "/preview/[::1]:6379"]
)
def test_internal_hosts_as_path_segments_are_blocked(path: str) -> None:
    verdict = WAF.inspect(_get(path))
    assert "ssrf-path-host" in _rules(verdict), _rules(verdict)


@pytest.mark.parametrize(
    "path", ["/api/releases/1.2.3", "/api/hosts/10.0.0.7", "/api/items/0x1f", "/api/v2/items/127"]
)
def test_versions_and_private_addresses_in_paths_pass(path: str) -> None:
    assert not WAF.inspect(_get(path)).blocked


# -- scanner fingerprints -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "value", "rule"),
    [
        ("user-agent", "crimscanner/1.0", "scanner-user-agent"),
        ("user-agent", "Mozilla/5.0 (Windows; U) whcc/0.6", "scanner-user-agent"),
        ("user-agent", "s.t.a.l.k.e.r.", "scanner-user-agent"),
        ("user-agent", "Hydra v9.5", "scanner-user-agent"),
        ("range", "bytes=0-,5-0,5-1,5-2,5-3,5-4,5-5,5-6", "scanner-marker-value"),
        ("via", "1.1 nuclei-proxy (Nuclei - Open-source project)", "scanner-marker-value"),
        ("referer", "http://x.bxss.me/", "scanner-oast"),
    ],
)
def test_scanner_headers_are_blocked(header: str, value: str, rule: str) -> None:
    verdict = WAF.inspect(header_request(header, value))
    assert rule in _rules(verdict), _rules(verdict)
    assert verdict.blocked


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("range", "bytes=0-1023"),
        ("via", "1.1 varnish (Varnish/7.4)"),
        ("user-agent", "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)"),
        ("user-agent", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"),
    ],
)
def test_ordinary_headers_pass(header: str, value: str) -> None:
    assert not WAF.inspect(header_request(header, value)).blocked


@pytest.mark.parametrize(
    "path",
    [
        "/wp-admin",
        "/blog/wp-login",
        "/api/_cluster/health",
        "/_cat/indices",
        "/api/nginx_status",
        "/_vti_bin/_vti_aut/author.dll",
        "/CVS/Entries",
        "/api/containers/json",
        "/db.sql",
    ],
)
def test_probe_paths_with_and_without_a_prefix_are_blocked(path: str) -> None:
    verdict = WAF.inspect(_get(path))
    assert "scanner-probe-path" in _rules(verdict), _rules(verdict)


@pytest.mark.parametrize(
    "path",
    [
        "/blog/how-we-removed-wp-admin",
        "/api/v2/cluster-health",
        "/api/v2/nodes/stats",
        "/api/v2/containers",
        "/api/pma-reports",
        "/api/v2/exports/orders.csv",
    ],
)
def test_api_paths_with_similar_words_pass(path: str) -> None:
    assert not WAF.inspect(_get(path)).blocked


# -- command injection ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (";lsb_release -a", "cmdi-shell-structure"),
        ("%COMSPEC% /c whoami", "cmdi-tools"),
    ],
)
def test_more_commands_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "Tr0ub4dor&3",
        "my;password;is;long",
        "Please run `lsb_release -a` and paste the output.",
        "Windows users: open cmd and run `ipconfig /all`, then send us the output.",
    ],
)
def test_passwords_and_tickets_quoting_commands_pass(text: str) -> None:
    _passes(text)


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (";%0aid", "cmdi-shell-structure"),
        ("& & whoami", "cmdi-shell-structure"),
        (";tar -cvf /tmp/a.tar /etc", "cmdi-shell-structure"),
        ('<!--#exec cmd="ls" -->', "cmdi-code-exec"),
    ],
)
def test_repeated_separators_and_server_side_includes_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "Running this:\n\n    whoami && id\n\nprints nothing. Expected a list.",
        "Running this:\n\n    cat /etc/hosts\n\nprints nothing.",
        "<!-- TODO: move the footer into a partial -->",
    ],
)
def test_blank_lines_in_tickets_and_html_comments_pass(text: str) -> None:
    _passes(text)


@pytest.mark.parametrize(
    ("value", "blocked"),
    [
        ("sqlmap/1.8.2#stable", True),
        ("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", True),
        ("Nikto/2.5.0", True),
        ("Netsparker fan club", False),
        ("nmap-results-42", False),
    ],
)
def test_scanner_product_tokens_in_custom_headers(value: str, blocked: bool) -> None:
    verdict = WAF.inspect(header_request("x-requested-with", value))
    assert verdict.blocked is blocked, verdict.matches
    assert ("scanner-tool-header" in _rules(verdict)) is blocked
