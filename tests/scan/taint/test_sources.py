"""Where attacker data enters (``sources.py`` and ``frameworks/``)."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan

T002 = "RP-T002"


def test_declared_handler_taints_star_args_unpacking(scan: Scan) -> None:
    code = """
    import os
    def run(*args, **kwargs):
        ev, ctx = args
        os.system(ev["cmd"])
        os.system(kwargs["event"]["cmd"])
    """
    assert scan(code, {"app.py": {"run"}}) == {(T002, 4), (T002, 5)}


def test_handler_named_like_a_handler_needs_no_manifest(scan: Scan) -> None:
    code = """
    import os
    def lambda_handler(payload, *rest):
        os.system(payload["cmd"])
    def format_value(value):
        os.system(value)
    """
    assert scan(code) == {(T002, 3)}


def test_context_is_not_attacker_data(scan: Scan) -> None:
    code = """
    import os
    def handler(event, context):
        os.system(context.function_name)
    """
    assert scan(code) == set()


def test_flask_request_parts_and_view_args(scan: Scan) -> None:
    code = """
    import os
    from flask import Flask, request
    app = Flask(__name__)
    @app.route("/run/<name>")
    def run(name):
        os.system(request.args.get("q"))
        os.system(request.form["q"])
        os.system(request.get_json()["q"])
        os.system(request.headers.get("X-Q"))
        os.system(request.cookies["q"])
        os.system(name)
        os.system(request.method)
        return "ok"
    """
    assert scan(code) == {(T002, n) for n in (6, 7, 8, 9, 10, 11)}


def test_django_request_parts_url_kwargs_and_class_views(scan: Scan) -> None:
    code = """
    import os
    from django.http import HttpResponse
    from django.views import View
    def run(request, slug):
        os.system(request.GET["q"])
        os.system(request.POST.get("q"))
        os.system(slug)
        os.system(request.user.username)
        return HttpResponse("ok")
    class Run(View):
        def get(self, request, pk):
            os.system(request.META["HTTP_X"])
            os.system(self.kwargs["pk"])
            os.system(pk)
            return HttpResponse("ok")
    """
    assert scan(code) == {(T002, n) for n in (5, 6, 7, 12, 13, 14)}


def test_fastapi_parameters_by_type_and_request(scan: Scan) -> None:
    code = """
    import os
    from fastapi import Depends, FastAPI, Request
    app = FastAPI()
    def settings():
        return {"cmd": "ls"}
    @app.get("/items/{item}")
    async def item(item: str, n: int, request: Request, cfg: dict = Depends(settings)):
        os.system(item)
        os.system(str(n))
        os.system(request.query_params["q"])
        os.system((await request.json())["q"])
        os.system(cfg["cmd"])
        return {}
    """
    assert scan(code) == {(T002, 8), (T002, 10), (T002, 11)}


def test_starlette_and_aiohttp_request_handlers(scan: Scan) -> None:
    code = """
    import os
    from aiohttp import web
    async def handle(request):
        os.system(request.match_info["name"])
        os.system((await request.post())["q"])
        os.system(request.query.get("q"))
        os.system(request.app["cmd"])
        return web.Response(text="ok")
    """
    assert scan(code) == {(T002, 4), (T002, 5), (T002, 6)}


def test_messages_read_from_queues_and_topics(scan: Scan) -> None:
    code = """
    import os
    import boto3
    from kafka import KafkaConsumer
    def poll_queue():
        sqs = boto3.client("sqs")
        for m in sqs.receive_message(QueueUrl="q")["Messages"]:
            os.system(m["Body"])
    def poll_topic():
        consumer = KafkaConsumer("orders")
        for record in consumer:
            os.system(record.value)
    async def on_msg(msg):
        os.system(msg.data.decode())
    async def main(nc):
        await nc.subscribe("orders", cb=on_msg)
    """
    assert scan(code) == {(T002, 7), (T002, 11), (T002, 13)}


def test_aiohttp_class_based_view(scan: Scan) -> None:
    code = """
    import os
    from aiohttp import web
    class Files(web.View):
        async def get(self):
            os.system(self.request.match_info["name"])
            return web.Response(text="ok")
    """
    assert scan(code) == {(T002, 5)}


def test_callable_handler_object(scan: Scan) -> None:
    code = """
    import os
    class Thumbnailer:
        def __call__(self, event, context):
            self.convert(event["key"])
        def convert(self, key):
            os.system("convert " + key)
    handler = Thumbnailer()
    """
    assert scan(code) == {(T002, 6)}
