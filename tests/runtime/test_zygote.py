"""Init semantics like Lambda's, on a real node: module scope runs once per worker.

Lambda runs a handler module's top level once per execution environment, and
what it opens there (event loops, threads, database connections, files) is that
environment's own and keeps working across invocations.  Each test app below is
written the way AWS documents it, runs on a real sandboxed node with
``concurrency`` > 1, and is called in parallel so that several workers serve.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app
from tests.wheelhouse import CACHE, IndexNode, serve_index, wheelhouse

WHEELS = ("fastapi", "mangum")

# Each call waits a little so that parallel calls overlap and need several workers.
COUNTER = """
import os
import time
import uuid

ENVIRONMENT = uuid.uuid4().hex  # made once per execution environment
INITS = int(os.environ.get("INIT_SEEN", "0")) + 1
os.environ["INIT_SEEN"] = str(INITS)
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    time.sleep(0.2)
    return {"environment": ENVIRONMENT, "pid": os.getpid(), "inits": INITS, "calls": CALLS}
"""

LOOP = """
import asyncio
import os

loop = asyncio.new_event_loop()  # the AWS sample's module-level loop
TOTAL = 0


async def add(n):
    global TOTAL
    await asyncio.sleep(0.2)
    TOTAL += n
    return TOTAL


def handler(event, context):
    total = loop.run_until_complete(add(event["n"]))
    return {"pid": os.getpid(), "n": event["n"], "total": total}
"""

THREAD = """
import os
import threading
import time

TICKS = 0


def _tick():
    global TICKS
    while True:
        TICKS += 1
        time.sleep(0.01)


BACKGROUND = threading.Thread(target=_tick, name="ticker", daemon=True)
BACKGROUND.start()


def handler(event, context):
    seen = TICKS
    time.sleep(0.2)
    return {"pid": os.getpid(), "alive": BACKGROUND.is_alive(), "moved": TICKS > seen}
"""

SQLITE = """
import os
import sqlite3

conn = sqlite3.connect("/tmp/hits.db", timeout=30, isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS hits (pid INTEGER, n INTEGER)")


def handler(event, context):
    conn.execute("INSERT INTO hits VALUES (?, ?)", (os.getpid(), event["n"]))
    mine = conn.execute("SELECT COUNT(*) FROM hits WHERE pid = ?", (os.getpid(),)).fetchone()[0]
    total = conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
    return {"pid": os.getpid(), "mine": mine, "total": total}
"""

MANIFEST = """
app: init
functions:
  counter:
    handler: counter.py:handler
    concurrency: 4
    timeout: 30s
  loop:
    handler: loop.py:handler
    concurrency: 4
    timeout: 30s
  thread:
    handler: thread.py:handler
    concurrency: 4
    timeout: 30s
  sqlite:
    handler: db.py:handler
    concurrency: 4
    timeout: 30s
"""

# FastAPI behind Mangum, as the Mangum README writes it.
FASTAPI_APP = """
import asyncio
import os

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/api/items/{item_id}")
async def read_item(item_id: int):
    await asyncio.sleep(0.2)
    return {"item_id": item_id, "pid": os.getpid()}


handler = Mangum(app, lifespan="off")
"""

FASTAPI_MANIFEST = """
app: init-api
functions:
  api:
    handler: main.py:handler
    concurrency: 4
    timeout: 30s
    triggers:
      - http: {method: GET, path: "/api/{proxy+}", auth: none}
"""

# The same kind of app behind a REST API (payload 1.0) route, as SAM's FastAPI
# examples deploy it: Mangum reads the v1 event and answers in the v1 shape.
FASTAPI_REST_APP = """
import os

from fastapi import FastAPI, Query, Request, Response
from mangum import Mangum

app = FastAPI()


@app.get("/rest/items/{item_id}")
def read_item(item_id: int, request: Request, response: Response,
              tag: list[str] = Query(default=[])):
    event = request.scope["aws.event"]
    response.headers["x-served-by"] = "fastapi"
    return {
        "item_id": item_id,
        "tags": tag,
        "pid": os.getpid(),
        "httpMethod": event.get("httpMethod"),
        "resource": event.get("resource"),
        "sourceIp": event["requestContext"]["identity"]["sourceIp"],
    }


handler = Mangum(app, lifespan="off")
"""

FASTAPI_REST_MANIFEST = """
app: init-rest
functions:
  rest:
    handler: main.py:handler
    concurrency: 2
    timeout: 30s
    triggers:
      - http: {method: GET, path: "/rest/{proxy+}", auth: none, payload: "1.0"}
"""

RAISES = """
import os

CONNECTION = os.environ["DATABASE_URL"]  # not set: the import raises


def handler(event, context):
    return CONNECTION
"""


# -- a local package index serving real wheels from PyPI (tests/wheelhouse.py) --------------
@pytest.fixture(scope="module")
def wheels() -> bool:
    """Whether FastAPI and Mangum are at hand; only the test that needs them skips if not."""
    try:
        wheelhouse(*WHEELS)
    except pytest.skip.Exception:
        return False
    return True


@pytest.fixture(scope="module")
def init_node(tmp_path_factory: pytest.TempPathFactory, wheels: bool) -> Iterator[RunningNode]:
    server, url = serve_index(CACHE)
    base = tmp_path_factory.mktemp("init")
    node = IndexNode(base / "data", url)
    try:
        node.start()
        yield node
    finally:
        node.close()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def deployed(init_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    root = tmp_path_factory.mktemp("init-app")
    app = make_app(
        root / "app",
        MANIFEST,
        {"counter.py": COUNTER, "loop.py": LOOP, "thread.py": THREAD, "db.py": SQLITE},
    )
    init_node.deploy_ok(app)
    return init_node


def _parallel(call: Callable[[int], Any], n: int, width: int = 4) -> list[Any]:
    """``call(i)`` for i in range(n), ``width`` at a time, results in order."""
    results: list[Any] = [None] * n
    errors: list[BaseException] = []
    lock = threading.Lock()
    todo = iter(range(n))

    def run() -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            try:
                results[i] = call(i)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(width)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def _invoke(node: RunningNode, fn: str, event: Any) -> Any:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": event})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok", body
    return body["result"]


def _several_workers(node: RunningNode, fn: str, n: int = 16, **event: Any) -> list[Any]:
    """Call ``fn`` in parallel until more than one worker has served (or give up)."""
    results: list[Any] = []
    for _ in range(5):
        results += _parallel(lambda i: _invoke(node, fn, {"n": i, **event}), n)
        if len({r["pid"] for r in results}) > 1:
            return results
    raise AssertionError(f"{fn}: only one worker served {len(results)} parallel calls")


# -- module scope: once per execution environment -------------------------------------------
def test_module_scope_runs_once_per_worker(deployed: RunningNode) -> None:
    results = _several_workers(deployed, "counter")
    by_pid: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_pid[r["pid"]].append(r)
    # each worker ran the module itself, and only once...
    environments = {pid: {r["environment"] for r in rows} for pid, rows in by_pid.items()}
    assert all(len(e) == 1 for e in environments.values()), environments
    assert len({e for s in environments.values() for e in s}) == len(by_pid), environments
    assert all(r["inits"] == 1 for r in results)
    # ...and its module state carries from one invocation to the next
    for rows in by_pid.values():
        assert sorted(r["calls"] for r in rows) == list(range(1, len(rows) + 1)), rows


def test_a_module_level_event_loop_serves_every_invocation(deployed: RunningNode) -> None:
    results = _several_workers(deployed, "loop", n=12)
    by_pid: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_pid[r["pid"]].append(r)
    # one loop per worker, and what its coroutines left behind is there next time
    for rows in by_pid.values():
        assert max(r["total"] for r in rows) == sum(r["n"] for r in rows), rows


def test_a_thread_started_at_import_runs_in_every_worker(deployed: RunningNode) -> None:
    results = _several_workers(deployed, "thread")
    assert all(r["alive"] and r["moved"] for r in results), results


def test_a_module_level_sqlite_connection_works_across_workers(deployed: RunningNode) -> None:
    results = _several_workers(deployed, "sqlite", n=24)
    by_pid: dict[int, list[int]] = defaultdict(list)
    for r in results:
        by_pid[r["pid"]].append(r["mine"])
    for mine in by_pid.values():
        assert sorted(mine) == list(range(1, len(mine) + 1))
    # every worker writes the one file in the function's /tmp: all rows are there
    assert max(r["total"] for r in results) == len(results)


def test_fastapi_behind_mangum_serves_parallel_requests(
    init_node: RunningNode, wheels: bool, tmp_path: Path
) -> None:
    if not wheels:
        pytest.skip("PyPI is unreachable: no fastapi/mangum wheels to install")
    app = make_app(tmp_path / "api", FASTAPI_MANIFEST, {"main.py": FASTAPI_APP})
    (app / "requirements.txt").write_text("fastapi\nmangum\n")
    init_node.deploy_ok(app)

    def get(i: int) -> dict[str, Any]:
        r = init_node.gateway.get(f"/api/items/{i}")
        assert r.status_code == 200, r.text
        return r.json()

    results: list[dict[str, Any]] = []
    for _ in range(5):
        results += _parallel(get, 12)
        if len({r["pid"] for r in results}) > 1:
            break
    assert len({r["pid"] for r in results}) > 1, "only one worker served"
    assert sorted(r["item_id"] for r in results) == sorted(list(range(12)) * (len(results) // 12))


def test_fastapi_behind_mangum_on_a_rest_api_route(
    init_node: RunningNode, wheels: bool, tmp_path: Path
) -> None:
    if not wheels:
        pytest.skip("PyPI is unreachable: no fastapi/mangum wheels to install")
    app = make_app(tmp_path / "rest", FASTAPI_REST_MANIFEST, {"main.py": FASTAPI_REST_APP})
    (app / "requirements.txt").write_text("fastapi\nmangum\n")
    init_node.deploy_ok(app)
    for i in range(6):
        r = init_node.gateway.get(f"/rest/items/{i}", params=[("tag", "a"), ("tag", "b")])
        assert r.status_code == 200, r.text
        assert r.headers["x-served-by"] == "fastapi"
        body = r.json()
        assert body["item_id"] == i and body["tags"] == ["a", "b"]
        # Mangum was handed a REST API (v1) event, not an HTTP API one.
        assert body["httpMethod"] == "GET" and body["resource"] == "/rest/{proxy+}"
        assert body["sourceIp"] == "127.0.0.1"
    r = init_node.gateway.get("/rest/items/not-a-number")
    assert r.status_code == 422, r.text  # FastAPI's own validation answer, passed through


# Every import of the module leaves its pid in the version's /tmp (shared by the
# version's processes): which processes ran the module scope, and which served.
IMPORTS = """
import os

os.makedirs("/tmp/imports", exist_ok=True)
open(f"/tmp/imports/{os.getpid()}", "w").close()


def handler(event, context):
    return {"pid": os.getpid(), "imports": sorted(os.listdir("/tmp/imports"))}
"""


def test_the_import_check_s_process_is_the_first_worker(
    init_node: RunningNode, tmp_path: Path
) -> None:
    """No second import for the first call: the probe that checked the module serves it."""
    manifest = """
    app: init-first
    functions:
      first:
        handler: h.py:handler
        concurrency: 1
    """
    init_node.deploy_ok(make_app(tmp_path / "first", manifest, {"h.py": IMPORTS}))
    one = _invoke(init_node, "first", {})
    assert one["imports"] == [str(one["pid"])]  # imported once, by the process that served
    two = _invoke(init_node, "first", {})
    assert two == one  # the same warm worker, no further import


# -- bad input -------------------------------------------------------------------------------
def test_a_handler_whose_import_raises_still_fails_the_deploy(
    init_node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "raises",
        """
        app: init-raises
        functions:
          raises:
            handler: h.py:handler
        """,
        {"h.py": RAISES},
    )
    r = init_node.deploy(app)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "handler_import_failed"
    assert "KeyError" in body["message"] and "DATABASE_URL" in body["message"]
    assert str(init_node.data_dir) not in body["message"] and "Traceback" not in body["message"]
    assert init_node.control.get("/v1/functions/raises/versions").status_code == 404
    # nothing half-deployed: a fixed version deploys and runs
    (app / "h.py").write_text("def handler(event, context):\n    return 'fixed'\n")
    init_node.deploy_ok(app)
    assert _invoke(init_node, "raises", {}) == "fixed"


def test_a_handler_that_exits_at_import_fails_the_deploy(
    init_node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "exits",
        """
        app: init-exits
        functions:
          exits:
            handler: h.py:handler
        """,
        {"h.py": "import os\nos._exit(3)\n\ndef handler(event, context):\n    return 1\n"},
    )
    r = init_node.deploy(app)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "handler_import_failed", r.text
    assert init_node.control.get("/v1/functions/exits/versions").status_code == 404

