"""Round 5 of the rule tuning (issue 15): more sensitive, the benign twins still pass.

Each test pairs an attack family with its benign twin -- the traffic that looks
most like it -- so a rule that widened into ordinary values fails one side.
The families are the ones tuning/batch6.py adds.
"""

from __future__ import annotations

import base64
import json

import pytest

from ramparts.gateway.waf.decode import decode
from ramparts.gateway.waf.engine import Verdict, Waf
from ramparts.gateway.waf.request import WafRequest
from tests.gateway.waf.waf_requests import header_request, json_request, query_request

WAF = Waf()


def _rules(verdict: Verdict) -> set[str]:
    return {m.rule for m in verdict.matches}


def _both(value: str) -> list[Verdict]:
    return [WAF.inspect(json_request(value)), WAF.inspect(query_request(value))]


def _get(path: str, query: str = "") -> WafRequest:
    return WafRequest("GET", path, query, [("user-agent", "Mozilla/5.0")], b"", "", f"GET {path}")


def _blocked_by(value: str, rule: str) -> None:
    for verdict in _both(value):
        assert rule in _rules(verdict), (value, _rules(verdict))
        assert verdict.blocked, value


def _passes(value: str) -> None:
    for verdict in _both(value):
        assert not verdict.blocked, (value, verdict.matches)


# -- SQL server variables and MSSQL error-based casts -------------------------------------
@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("' + convert(int,@@version) + '", "sqli-error-based"),
        ("1 and 1=convert(int,(select top 1 name from sysobjects))", "sqli-error-based"),
        ("x' and @@datadir like '/var%", "sqli-system-variable"),
        ("1 union select @@hostname", "sqli-system-variable"),
    ],
)
def test_sql_server_variables_and_convert_casts_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "@@ -12,7 +12,9 @@ def load(self):",
        "Use CONVERT(INT, price) in the report query instead of CAST.",
        "ping me at ana@example.com or @ops-team",
        "We log @@ERROR after each statement in the stored procedure.",
    ],
)
def test_diff_hunks_addresses_and_convert_in_prose_pass(text: str) -> None:
    _passes(text)


# -- command injection as commix spells it -----------------------------------------------
@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("a;cat$u /etc$u/passwd", "cmdi-shell-structure"),
        (";$u cat /etc/passwd", "cmdi-shell-structure"),
        ("${PATH:0:1}bin${PATH:0:1}sh", "cmdi-ifs"),
        (";${HOME:0:1}etc${HOME:0:1}passwd", "cmdi-ifs"),
        ("; killall -9 node", "cmdi-shell-structure"),
        ("x| useradd -m eve", "cmdi-shell-structure"),
    ],
)
def test_commix_spellings_and_more_commands_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "Workaround: kill $(lsof -t -i:3000) then restart the dev server",
        "export PATH=${PATH}:/opt/tools/bin in your .bashrc fixed it",
        "Costs 5$ a month; A$AP tickets are extra",
        "Use ${VAR:-default} for optional settings in the compose file.",
        "$HOME/.config/app is where settings live",
    ],
)
def test_shell_variables_in_tickets_pass(text: str) -> None:
    _passes(text)


# -- SSRF: URLs without "//" that WHATWG parsers read, metadata paths behind any host ------
@pytest.mark.parametrize(
    "payload",
    ["http:/127.0.0.1/admin", "http:\\\\127.0.0.1\\x", "http:@127.0.0.1", "https:/169.254.169.254"],
)
def test_urls_without_double_slash_to_internal_hosts_are_blocked(payload: str) -> None:
    _blocked_by(payload, "ssrf-internal-url")


@pytest.mark.parametrize(
    "payload",
    [
        "https://rebind.example/latest/meta-data/iam/security-credentials/",
        "http://x.example/computeMetadata/v1/instance/service-accounts/default/token",
    ],
)
def test_metadata_paths_behind_any_host_are_blocked(payload: str) -> None:
    _blocked_by(payload, "ssrf-metadata-path")


@pytest.mark.parametrize(
    "text",
    [
        "http:/example.com/docs",
        "http:@example.com",
        "https://api.example.com/v1/metadata/instance-types",
        "On EC2 the SDK reads credentials from the metadata service (see `/latest/meta-data/`).",
    ],
)
def test_malformed_public_urls_and_docs_about_metadata_pass(text: str) -> None:
    _passes(text)


# -- SSTI probes with quoted operands -------------------------------------------------------
@pytest.mark.parametrize("payload", ["${7*'7'}", "<% 7*7 %>", "<%- 7*7 %>", "#{'7'*7}"])
def test_template_probes_with_quoted_operands_are_blocked(payload: str) -> None:
    _blocked_by(payload, "ssti-probe")


@pytest.mark.parametrize(
    "text",
    [
        "Hello ${firstName}, your total is ${total}.",
        "Use ${price * quantity} in the line item template",
        "<% if user.admin %>Admin tools<% end %>",
    ],
)
def test_template_placeholders_pass(text: str) -> None:
    _passes(text)


# -- DOM sinks as values (critical since round 5) ----------------------------------------------
@pytest.mark.parametrize(
    "payload",
    ["window['alert'](1)", "top['al'+'ert'](1)", 'window["document"]["cookie"]', "confirm(1)"],
)
def test_dom_sinks_as_values_are_blocked(payload: str) -> None:
    _blocked_by(payload, "xss-dom-sinks")


@pytest.mark.parametrize(
    "text",
    [
        "Replace window['config'] lookups with the typed settings object, please.",
        "This reads `document.cookie` to restore the session, is that safe with HttpOnly set?",
    ],
)
def test_dom_words_in_review_text_pass(text: str) -> None:
    _passes(text)


# -- base64-encoded fields -----------------------------------------------------------------
@pytest.mark.parametrize(
    "payload",
    ["' or 1=1--", ";cat /etc/passwd", "<script>alert(1)</script>", "{{7*7}}", "| whoami"],
)
def test_payloads_sent_base64_encoded_are_read_decoded(payload: str) -> None:
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        value = encode(payload.encode()).decode()
        assert decode(value) == payload
        body = json.dumps({"data": value}).encode()
        req = WafRequest(
            "POST",
            "/api/import",
            "",
            [("content-type", "application/json")],
            body,
            "application/json",
            "POST /api/import",
        )
        assert WAF.inspect(req).blocked, payload
        assert WAF.inspect(header_request("cookie", f"prefs={value}")).blocked, payload


def test_random_tokens_and_encoded_text_pass() -> None:
    tokens = [base64.b64encode(bytes(range(n, n + 24))).decode() for n in range(0, 200, 17)] + [
        "dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcw==",  # "the quick brown fox jumps"
        base64.b64encode(b'{"user":"bob","exp":1700000000}').decode(),
        "deadbeefcafebabe0123456789abcdef",  # hex id: in the alphabet, decodes to binary
        "internationalization",
    ]
    for token in tokens:
        for verdict in (
            WAF.inspect(json_request(token)),
            WAF.inspect(header_request("cookie", f"sid={token}")),
        ):
            assert not verdict.blocked, (token, verdict.matches)


# -- scanners: product and CVE probe paths, probe query strings, user agents ------------------
@pytest.mark.parametrize(
    "path",
    [
        "/global-protect/login.esp",
        "/dana-na/auth/url_default/welcome.cgi",
        "/Telerik.Web.UI.WebResource.axd",
        "/secure/ContactAdministrators!default.jspa",
        "/mgmt/shared/authn/login",
        "/ws/v1/cluster/apps/new-application",
        "/.travis.yml",
        "/server.key",
    ],
)
def test_product_and_cve_probe_paths_are_blocked(path: str) -> None:
    verdict = WAF.inspect(_get(path))
    assert "scanner-probe-path" in _rules(verdict), path
    assert verdict.blocked


@pytest.mark.parametrize(
    "query",
    [
        "XDEBUG_SESSION_START=phpstorm",
        "element_parents=account/mail/%23value&ajax_form=1",
        "query=%7B__schema%7Btypes%7Bname%7D%7D%7D",
    ],
)
def test_probe_query_strings_are_blocked(query: str) -> None:
    verdict = WAF.inspect(_get("/api/v2/items", query))
    assert "scanner-probe-query" in _rules(verdict), query
    assert verdict.blocked


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v2/remote/sessions", ""),
        ("/api/v2/certs/ca.pem", ""),
        ("/api/v2/keys/rotate", ""),
        ("/api/v2/search", "q=graphql+schema+design"),
        ("/graphql", "query=%7Buser(id:5)%7Bname%7D%7D"),
        ("/api/v2/sessions", "session=start&debug=1"),
    ],
)
def test_api_paths_and_queries_with_similar_words_pass(path: str, query: str) -> None:
    verdict = WAF.inspect(_get(path, query))
    assert not verdict.blocked, (path, query, verdict.matches)


@pytest.mark.parametrize(
    "agent",
    ["DotDotPwn v3.0.2", "struts-pwn", "Mozilla/5.0 (compatible; Nimbostratus-Bot/v1.3.2)"],
)
def test_more_scanner_user_agents_are_blocked(agent: str) -> None:
    verdict = WAF.inspect(header_request("user-agent", agent))
    assert "scanner-user-agent" in _rules(verdict)
    assert verdict.blocked


# -- Shellshock, PHP code, more template engines -----------------------------------------------
@pytest.mark.parametrize(
    "payload", ["() { :;}; echo; /usr/bin/id", "() { :; }; /bin/bash -c 'cat /etc/passwd'"]
)
def test_shellshock_function_definitions_are_blocked(payload: str) -> None:
    _blocked_by(payload, "cmdi-shellshock")
    verdict = WAF.inspect(header_request("user-agent", payload))
    assert "cmdi-shellshock" in _rules(verdict)
    assert verdict.blocked


@pytest.mark.parametrize(
    "payload",
    ["<?php system($_GET['c']); ?>", "<?= shell_exec($_REQUEST['x']) ?>"],
)
def test_php_code_running_commands_is_blocked(payload: str) -> None:
    _blocked_by(payload, "code-php-injection")


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("${applicationScope}", "ssti-java"),
        ("${pageContext.request.serverName}", "ssti-java"),
        ("{{dump(app)}}", "ssti-probe"),
        ("{{ handler.settings }}", "ssti-probe"),
        ("{{ messages.storages.0.signer.key }}", "ssti-probe"),
        ("${''.join(chr(x) for x in [105,100])}", "ssti-probe"),
        ("a|tee /tmp/x", "cmdi-shell-structure"),
    ],
)
def test_more_engine_probes_and_commands_are_blocked(payload: str, rule: str) -> None:
    _blocked_by(payload, rule)


@pytest.mark.parametrize(
    "text",
    [
        "The layout still uses <?php echo $title; ?> in the header partial.",
        "Move the ${user.name} placeholder into the JSP fragment.",
        "the tee shirt; tee time",
        "{{ messages }} renders the flash list in base.html",
    ],
)
def test_php_templates_placeholders_and_tee_in_text_pass(text: str) -> None:
    _passes(text)
