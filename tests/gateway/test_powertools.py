"""Powertools for AWS Lambda's event handlers, unchanged, on a real node.

The apps are written as the Powertools documentation writes them: an
``APIGatewayRestResolver`` behind a ``payload: "1.0"`` route (REST API) and
an ``APIGatewayHttpResolver`` behind a default (2.0, HTTP API) route.
aws-lambda-powertools is installed at deploy time from a local index fed
from PyPI once (see tests/wheelhouse.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import RunningNode, make_app
from tests.wheelhouse import IndexNode, serve_index, wheelhouse

MANIFEST = """
app: todos
functions:
  rest-api:
    handler: rest_app.lambda_handler
    triggers:
      - http: {method: GET, path: "/todos/{todo_id}", auth: none, payload: "1.0"}
      - http: {method: POST, path: /todos, auth: none, payload: "1.0"}
      - http: {method: GET, path: /login, auth: none, payload: "1.0"}
  http-api:
    handler: http_app.lambda_handler
    triggers:
      - http: {method: GET, path: "/hello/{name}", auth: none}
"""

REST_APP = """
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayRestResolver()


@app.get("/todos/<todo_id>")
def get_todo_by_id(todo_id: str):
    event = app.current_event
    return {
        "id": todo_id,
        "method": event.http_method,
        "source_ip": event.request_context.identity.source_ip,
        "tags": (event.multi_value_query_string_parameters or {}).get("tag", []),
    }


@app.post("/todos")
def create_todo():
    todo: dict = app.current_event.json_body
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body={"created": todo["title"]},
    )


@app.get("/login")
def login():
    return Response(
        status_code=200,
        content_type=content_types.TEXT_PLAIN,
        body="welcome",
        cookies=[Cookie(name="session", value="s1"), Cookie(name="theme", value="dark")],
    )


def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
"""

HTTP_APP = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()


@app.get("/hello/<name>")
def hello(name: str):
    source_ip = app.current_event.request_context.http.source_ip
    return {"message": f"hello {name}", "source_ip": source_ip}


def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
"""

REQUIREMENT = "aws-lambda-powertools>=3,<4"


@pytest.fixture(scope="module")
def todos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    server, url = serve_index(wheelhouse(REQUIREMENT))
    base = tmp_path_factory.mktemp("powertools")
    node = IndexNode(base / "data", url).start()
    try:
        app = make_app(
            base / "app",
            MANIFEST,
            {"rest_app.py": REST_APP, "http_app.py": HTTP_APP, "requirements.txt": REQUIREMENT},
        )
        node.deploy_ok(app)
        yield node
    finally:
        node.close()
        server.shutdown()
        server.server_close()


def test_rest_resolver_routes_a_rest_event(todos: RunningNode) -> None:
    r = todos.gateway.get("/todos/7?tag=a&tag=b")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "7", "method": "GET", "source_ip": "127.0.0.1", "tags": ["a", "b"]}


def test_rest_resolver_reads_the_body_and_sets_the_status(todos: RunningNode) -> None:
    r = todos.gateway.post("/todos", json={"title": "write tests"})
    assert r.status_code == 201, r.text
    assert r.json() == {"created": "write tests"}


def test_rest_resolver_cookies_arrive_as_separate_headers(todos: RunningNode) -> None:
    r = todos.gateway.get("/login")
    assert r.status_code == 200 and r.text == "welcome"
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=s1") and cookies[1].startswith("theme=dark")


def test_http_resolver_routes_a_2_0_event(todos: RunningNode) -> None:
    r = todos.gateway.get("/hello/ana")
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello ana", "source_ip": "127.0.0.1"}
