"""Round 6 of the rule tuning (issue 15): SQL that *is* the value versus SQL that breaks out.

Each test pairs an attack family with its benign twin.  The benign side is text
that contains SQL without breaking out of anything -- saved report queries,
SQL-like filters, review comments with a remark after ``--``, a markdown code
span opening a comment, passwords ending in ``';`` -- and the attack side is
the same shape with a quote break, a constant condition, a stacked query, a
comment cutting the query short or a function no report needs.  The families
are the ones tuning/batch7.py adds.
"""

from __future__ import annotations

import pytest

from ramparts.gateway.waf.engine import Verdict, Waf, _hits
from ramparts.gateway.waf.sqlshape import whole_statement
from tests.gateway.waf.waf_requests import json_request, query_request

WAF = Waf()


def _rules(verdict: Verdict) -> set[str]:
    return {m.rule for m in verdict.matches}


def _both(value: str) -> list[Verdict]:
    return [WAF.inspect(json_request(value)), WAF.inspect(query_request(value))]


def _fires(value: str) -> set[str]:
    """Every rule that fires on a query value (a verdict stops at the threshold)."""
    return {hit[0].id for hit in _hits(WAF._group("query", ""), value)}


def _blocked(value: str, rule: str | None = None) -> None:
    for verdict in _both(value):
        assert verdict.blocked, value
    if rule is not None:
        assert rule in _fires(value), (value, _fires(value))


def _passes(value: str) -> None:
    for verdict in _both(value):
        assert not verdict.blocked, (value, verdict.matches)


# -- saved report queries and SQL-like filters ---------------------------------------------
# Blocked before round 6 (libinjection on short filters; keyword density plus libinjection
# on longer statements; UNION or ORDER BY N in a statement's own text).
REPORT_QUERIES = [
    "level = 'warn' AND retries > 3",
    "team = 'payments' OR team = 'billing'",
    "kind = 'incident' and region in ('eu', 'us')",
    "SELECT city, avg(price) FROM listings WHERE rooms >= 2 GROUP BY city ORDER BY 2 DESC",
    "select count(*) from deploys where env = 'prod' and status = 'failed'",
    "SELECT plan, count(*) FROM accounts GROUP BY 1 ORDER BY 1",
    "SELECT email FROM leads WHERE source = 'ads' "
    "UNION SELECT email FROM leads_archive WHERE source = 'ads'",
    "SELECT id FROM jobs WHERE finished_at IS NULL OR state = ''",
]


@pytest.mark.parametrize("query", REPORT_QUERIES, ids=[f"q{i}" for i in range(len(REPORT_QUERIES))])
def test_saved_report_queries_and_filters_pass(query: str) -> None:
    assert whole_statement(query)
    _passes(query)


# The same shapes with what an injection adds: each still blocks.
INJECTED = [
    ("level = 'warn' or 1=1", "sqli-tautology"),
    ("team = '' or ''=''", None),
    ("kind = 'x' and sleep(5)", "sqli-time-based"),
    ("select count(*) from deploys where env = 'prod' or 1=1", None),
    ("select email from leads; drop table leads", None),
    ("select table_name from information_schema.tables", "sqli-system-objects"),
    ("select @@version from dual", "sqli-system-variable"),
    ("team = 'x' union select password from users", "sqli-union-select"),
    ("select name from users where name = 'x' or 'a'='a'", "sqli-tautology"),
    ("x' or state = 'open' --", None),
]


@pytest.mark.parametrize(("payload", "rule"), INJECTED, ids=[f"a{i}" for i in range(len(INJECTED))])
def test_the_same_shapes_with_an_injection_are_blocked(payload: str, rule: str | None) -> None:
    assert not whole_statement(payload)
    _blocked(payload, rule)


@pytest.mark.parametrize(
    "value",
    [
        # read from inside a literal, these literals' contents would run as SQL
        "note = ' or 1 or '",
        "note = ' union select password from users where '",
        # a word against a literal: the value's first quote closes one
        "name' = 'x' or 'a' = 'a",
    ],
    ids=["or-inside", "union-inside", "word-literal"],
)
def test_literals_that_would_run_as_sql_are_not_a_statement(value: str) -> None:
    assert not whole_statement(value)
    _blocked(value)


# -- a statement with a remark, a code span opening a comment ------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "SELECT id FROM users WHERE email = %s -- parameterised, so this one is fine",
        "SELECT sku, COUNT(*) FROM stock GROUP BY sku HAVING COUNT(*) > 1; -- the duplicates",
        "`-- FIXME: drop after the backfill` is still in the migration, please remove it.",
    ],
    ids=["remark", "semicolon-remark", "code-span"],
)
def test_review_comments_with_sql_remarks_pass(text: str) -> None:
    _passes(text)


@pytest.mark.parametrize(
    "payload",
    [
        "admin' -- parameterised, so this one is fine",
        "select id from users where email = 'a' -- ' or 1=1 or '",
        "admin`-- ",
        "admin`/* x",
    ],
    ids=["quote-remark", "remark-with-quote", "backtick-open", "backtick-block"],
)
def test_comment_truncation_is_still_blocked(payload: str) -> None:
    _blocked(payload)


# -- passwords ending in a quote and a semicolon --------------------------------------------
def test_a_password_ending_in_quote_semicolon_passes() -> None:
    for password in ("hunter2';", "x7');"):
        _passes(password)


@pytest.mark.parametrize(
    "payload", ["admin'; --", "admin';#", "admin'; select 1"], ids=["dash", "hash", "stacked"]
)
def test_a_quote_semicolon_then_a_comment_or_statement_is_blocked(payload: str) -> None:
    _blocked(payload)


# -- attacks the round adds -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("1;copy (select '') to program 'id'", "sqli-stacked-query"),
        ("1 and (select 0x41)=0x41", "sqli-subquery"),
        ("1 group by 1,2,3--", "sqli-order-probe"),
    ],
    ids=["copy-program", "hex-subquery", "group-by-list"],
)
def test_stacked_copy_hex_subqueries_and_column_lists_are_blocked(payload: str, rule: str) -> None:
    _blocked(payload, rule)


# -- a subquery a name is tested against, in a review sentence ------------------------------
def test_a_review_sentence_with_an_in_subquery_passes() -> None:
    _passes("Use WHERE id IN (SELECT order_id FROM refunds) or a join?")
    _passes("Consider: SELECT name FROM users WHERE id IN (SELECT user_id FROM admins)")


@pytest.mark.parametrize(
    "payload",
    [
        "1 and 1 in (select min(name) from sysobjects)",
        "' or 1 in (select @@version)--",
        "x' and id in (select password from users) and 'a'='a",
        "1 and id in (select id from users where name like 'a%')",
    ],
    ids=["number-in", "variable", "quote-break", "blind"],
)
def test_subqueries_in_injections_are_still_blocked(payload: str) -> None:
    _blocked(payload)
