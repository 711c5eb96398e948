"""Views registered by a call, and FastAPI dependencies, are sources (issue 16, review 2 F14)."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

T002, T005, T012 = "RP-T002", "RP-T005", "RP-T012"


def test_flask_add_url_rule_views_get_their_url_arguments(scan: Scan) -> None:
    code = """
    from flask import Flask

    app = Flask(__name__)

    def read_file(name):
        return {"body": open("/srv/" + name).read()}

    def by_id(pid):
        return {"body": open("/srv/%d" % pid).read()}

    app.add_url_rule("/f/<name>", view_func=read_file)
    app.add_url_rule("/p/<int:pid>", "p", by_id)
    """
    assert scan(code) == {(T005, 6)}


def test_fastapi_add_api_route_endpoints_are_entry_points(scan: Scan) -> None:
    code = """
    from fastapi import FastAPI

    app = FastAPI()

    def e(name: str):
        return open("/srv/" + name).read()

    def n(count: int):
        return open("/srv/%d" % count).read()

    app.add_api_route("/e", e)
    app.add_api_route(path="/n", endpoint=n)
    """
    assert scan(code) == {(T005, 6)}


def test_a_fastapi_dependency_returning_request_data_is_attacker_data(scan: Scan) -> None:
    code = """
    import subprocess
    from fastapi import Depends, FastAPI, Header, Query

    app = FastAPI()

    def dep(path: str = Query(...)):
        return path

    def db():
        return object()

    def checked(path: str = Query(...)):
        if path not in {"a.txt", "b.txt"}:
            raise ValueError(path)
        return path

    @app.get("/c")
    def c(p: str = Depends(dep), conn=Depends(db), ok: str = Depends(checked)):
        subprocess.run(["cat", str(conn)])
        open("/srv/" + ok).read()
        return open("/srv/" + p).read()
    """
    assert scan(code) == {(T005, 21)}
