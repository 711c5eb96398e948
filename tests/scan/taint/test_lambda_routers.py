"""Lambda routers as sources: AWS Lambda Powertools resolvers and Chalice (F1)."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

T002, T003, T005, T006 = "RP-T002", "RP-T003", "RP-T005", "RP-T006"


def test_powertools_current_event_parts_are_attacker_data(scan: Scan) -> None:
    code = """
    import os, sqlite3, requests
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    app = APIGatewayHttpResolver()
    db = sqlite3.connect("/tmp/a.db")
    @app.post("/orders")
    def create():
        body = app.current_event.json_body
        db.execute("INSERT INTO orders(item) VALUES ('%s')" % body["item"])
        requests.get(app.current_event.query_string_parameters["url"], timeout=3)
        os.system(app.current_event.get_query_string_value("q", ""))
        os.system(app.current_event.headers["x-cmd"])
        os.system(app.current_event.body)
        os.system(app.current_event.request_context.stage)
        return {"ok": True}
    def lambda_handler(event, context):
        return app.resolve(event, context)
    """
    assert scan(code) == {(T003, 8), (T006, 9), (T002, 10), (T002, 11), (T002, 12)}


def test_powertools_route_parameters_are_attacker_data(scan: Scan) -> None:
    code = """
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    app = APIGatewayRestResolver()
    @app.get("/files/<name>")
    def get_file(name: str):
        with open("/var/task/files/" + name) as f:
            return {"data": f.read()}
    def lambda_handler(event, context):
        return app.resolve(event, context)
    """
    assert scan(code) == {(T005, 5)}


def test_chalice_current_request_and_view_args_are_attacker_data(scan: Scan) -> None:
    code = """
    import os, sqlite3
    from chalice import Chalice
    app = Chalice(app_name="items")
    db = sqlite3.connect("/tmp/a.db")
    @app.route("/items/{name}")
    def item(name):
        db.execute(f"SELECT * FROM items WHERE name = '{name}'")
        os.system(app.current_request.query_params["q"])
        os.system(app.current_request.json_body["q"])
        os.system(app.current_request.uri_params["name"])
        os.system(app.current_request.method)
        return {}
    """
    assert scan(code) == {(T003, 7), (T002, 8), (T002, 9), (T002, 10)}


def test_current_event_of_an_unrelated_object_is_not_a_source(scan: Scan) -> None:
    code = """
    import os
    class Recorder:
        current_event = None
    rec = Recorder()
    def tick():
        os.system(rec.current_event.body)
    """
    assert scan(code) == set()
