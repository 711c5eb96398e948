"""Request data unpacked into models keeps its taint, except typed scalar fields (F19, F17)."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

T002, T003 = "RP-T002", "RP-T003"


def test_pydantic_model_from_kwargs_carries_taint(scan: Scan) -> None:
    code = """
    import sqlite3, json
    from pydantic import BaseModel
    db = sqlite3.connect("/tmp/a.db")
    class Order(BaseModel):
        customer: str
        count: int
    def handler(event, context):
        o = Order(**json.loads(event["body"]))
        db.execute(f"SELECT * FROM orders WHERE customer = '{o.customer}'")
        db.execute(f"SELECT * FROM orders LIMIT {o.count}")
    """
    assert scan(code) == {(T003, 9)}


def test_dataclass_and_attrs_from_kwargs_carry_taint(scan: Scan) -> None:
    code = """
    import os, sqlite3, attr
    from dataclasses import dataclass
    db = sqlite3.connect("/tmp/a.db")
    @dataclass
    class Query:
        name: str
    @attr.s
    class Host:
        host = attr.ib()
    def handler(event, context):
        q = Query(**event["queryStringParameters"])
        db.execute(f"SELECT * FROM users WHERE name = '{q.name}'")
        h = Host(**event["queryStringParameters"])
        os.system("ping -c1 " + h.host)
    """
    assert scan(code) == {(T003, 12), (T002, 14)}


def test_model_validate_and_parse_obj_carry_taint(scan: Scan) -> None:
    code = """
    import os
    from pydantic import BaseModel
    class Job(BaseModel):
        cmd: str
        retries: int
    def handler(event, context):
        a = Job.model_validate(event)
        os.system(a.cmd)
        b = Job.parse_obj(event)
        os.system(b.cmd)
        os.system("sleep " + str(b.retries))
    """
    assert scan(code) == {(T002, 8), (T002, 10)}


def test_fastapi_body_model_int_fields_are_clean(scan: Scan) -> None:
    code = """
    import sqlite3
    from pydantic import BaseModel
    from fastapi import FastAPI
    app = FastAPI()
    class Page(BaseModel):
        limit: int
        offset: int
        sort: str
    @app.post("/items")
    def items(p: Page):
        db = sqlite3.connect("/tmp/a.db")
        db.execute(f"SELECT * FROM t LIMIT {p.limit} OFFSET {p.offset}")
        return db.execute(f"SELECT * FROM t ORDER BY {p.sort}").fetchall()
    """
    assert scan(code) == {(T003, 13)}


def test_model_from_clean_data_is_clean(scan: Scan) -> None:
    code = """
    import os
    from dataclasses import dataclass
    @dataclass
    class Cfg:
        cmd: str
    DEFAULTS = {"cmd": "uptime"}
    def handler(event, context):
        c = Cfg(**DEFAULTS)
        os.system(c.cmd)
    """
    assert scan(code) == set()
