"""Response sinks (``responses.py``): open redirects and reflected XSS."""

from __future__ import annotations

from tests.scan.taint.conftest import Scan


def test_flask_redirects_and_html_returns(scan: Scan) -> None:
    code = """
    import html
    from flask import Flask, Markup, jsonify, redirect, render_template_string, request, url_for
    app = Flask(__name__)
    @app.route("/go")
    def go():
        return redirect(request.args["next"])
    @app.route("/home")
    def home():
        return redirect(url_for("index", page=request.args["p"]))
    @app.route("/local")
    def local():
        return redirect("/items/" + request.args["id"])
    @app.route("/hello")
    def hello():
        return f"<h1>Hello {request.args['name']}</h1>"
    @app.route("/hello-safe")
    def hello_safe():
        return f"<h1>Hello {html.escape(request.args['name'])}</h1>"
    @app.route("/tpl")
    def tpl():
        return render_template_string("<p>{{ n }}</p>", n=request.args["name"])
    @app.route("/json")
    def as_json():
        return jsonify(name=request.args["name"])
    @app.route("/markup")
    def markup():
        return Markup("<b>%s</b>" % request.args["name"])
    """
    assert scan(code) == {("RP-T011", 6), ("RP-T012", 15), ("RP-T012", 27)}


def test_django_and_starlette_responses(scan: Scan) -> None:
    code = """
    from django.http import HttpResponse, HttpResponseRedirect
    from django.utils.http import url_has_allowed_host_and_scheme
    from django.utils.safestring import mark_safe
    from starlette.responses import HTMLResponse, RedirectResponse
    def page(request):
        name = request.GET["name"]
        HttpResponse("<p>" + name + "</p>")
        HttpResponse(name, content_type="text/plain")
        mark_safe(name)
        nxt = request.GET["next"]
        if url_has_allowed_host_and_scheme(nxt, allowed_hosts={"example.com"}):
            HttpResponseRedirect(nxt)
        return HttpResponseRedirect(nxt)
    async def star(request):
        HTMLResponse(f"<p>{request.query_params['q']}</p>")
        return RedirectResponse(request.query_params["next"])
    """
    assert scan(code) == {("RP-T012", 7), ("RP-T012", 9), ("RP-T011", 13),
                          ("RP-T012", 15), ("RP-T011", 16)}


def test_lambda_response_dicts(scan: Scan) -> None:
    code = """
    def handler(event, context):
        nxt = event["queryStringParameters"]["next"]
        if event.get("html"):
            return {"statusCode": 200, "headers": {"Content-Type": "text/html"},
                    "body": "<p>" + nxt + "</p>"}
        if event.get("json"):
            return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                    "body": nxt}
        return {"statusCode": 302, "headers": {"Location": nxt}}
    """
    assert scan(code) == {("RP-T012", 4), ("RP-T011", 9)}


def test_jinja2_autoescape_off(scan: Scan) -> None:
    code = """
    import jinja2
    def handler(event, context):
        name = event["name"]
        jinja2.Template("<p>{{ n }}</p>").render(n=name)
        jinja2.Template("<p>{{ n }}</p>", autoescape=True).render(n=name)
        env = jinja2.Environment(autoescape=False)
        env.from_string("<p>{{ n }}</p>").render(n=name)
    """
    assert scan(code) == {("RP-T012", 4), ("RP-T012", 7)}


def test_unescaped_template_held_in_a_variable(scan: Scan) -> None:
    code = """
    from jinja2 import Environment, Template
    def handler(event, context):
        page = Environment(autoescape=False).from_string("<p>{{ q }}</p>")
        page.render(q=event["q"])
        safe = Environment(autoescape=True).from_string("<p>{{ q }}</p>")
        safe.render(q=event["q"])
        raw = Template("<p>{{ q }}</p>")
        raw.render(q=event["q"])
    """
    assert scan(code) == {("RP-T012", 4), ("RP-T012", 8)}


def test_session_writes_flask_django_aiohttp(scan: Scan) -> None:
    code = """
    from aiohttp_session import get_session
    from flask import request, session
    from django.http import HttpResponse
    def view(request):
        request.session["user"] = request.GET["u"]
        request.session["n"] = int(request.GET["n"])
        return HttpResponse("ok")
    async def handle(request):
        s = await get_session(request)
        s["user"] = (await request.json())["u"]
        s.update({"user": request.query["u"]})
    """
    assert scan(code) == {("RP-T015", 5), ("RP-T015", 10), ("RP-T015", 11)}


def test_a_sent_file_is_a_response_not_html_text(scan: Scan) -> None:
    code = """
    from flask import Flask, request, send_file, send_from_directory
    app = Flask(__name__)
    @app.route("/a")
    def a():
        return send_from_directory("/srv/files", request.args["f"])
    @app.route("/b")
    def b():
        return send_file(request.args["f"])
    """
    assert scan(code) == {("RP-T005", 8)}


def test_lambda_html_headers_from_a_constant_or_multi_value_headers(scan: Scan) -> None:
    code = """
    HTML = {"Content-Type": "text/html"}
    JSON = {"Content-Type": "application/json"}
    def handler(event, context):
        q = event["queryStringParameters"]["q"]
        if event.get("html"):
            return {"statusCode": 200, "headers": HTML, "body": f"<p>{q}</p>"}
        if event.get("json"):
            return {"statusCode": 200, "headers": JSON, "body": q}
        return {"statusCode": 200, "multiValueHeaders": {"Content-Type": ["text/html"]},
                "body": "<p>" + q + "</p>"}
    """
    assert scan(code) == {("RP-T012", 6), ("RP-T012", 9)}
