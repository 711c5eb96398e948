"""Response sinks: redirects (open redirect) and HTML bodies (reflected XSS).

A web framework's response is where request data goes back to a browser: in
a redirect's target, a ``Location`` header, or an HTML body. Lambda handlers
build responses as dicts, so a dict literal with a ``Location`` header or an
HTML ``Content-Type`` and a body is checked where it is written.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Protocol

from ramparts.scan.taint.rules import CLEAN, Taint

REDIRECTS = frozenset({"flask.redirect", "quart.redirect", "bottle.redirect",
                       "django.shortcuts.redirect", "django.http.HttpResponseRedirect",
                       "django.http.HttpResponsePermanentRedirect",
                       "django.http.response.HttpResponseRedirect",
                       "starlette.responses.RedirectResponse",
                       "fastapi.responses.RedirectResponse", "aiohttp.web.HTTPFound",
                       "aiohttp.web.HTTPSeeOther", "aiohttp.web.HTTPMovedPermanently",
                       "aiohttp.web.HTTPTemporaryRedirect", "werkzeug.utils.redirect"})
MARKUP = frozenset({"markupsafe.Markup", "flask.Markup", "jinja2.Markup",
                    "django.utils.safestring.mark_safe", "django.utils.safestring.SafeString"})
# responses whose body is HTML unless a content type says otherwise
HTML_BY_DEFAULT = frozenset({"flask.make_response", "flask.Response", "werkzeug.Response",
                             "werkzeug.wrappers.Response", "django.http.HttpResponse",
                             "django.http.response.HttpResponse", "quart.make_response",
                             "starlette.responses.HTMLResponse",
                             "fastapi.responses.HTMLResponse"})
HTML_IF_TYPED = frozenset({"aiohttp.web.Response", "starlette.responses.Response",
                           "fastapi.responses.Response", "fastapi.Response"})
# results that are response objects, not the text they were built from
RESPONSE_OBJECTS = REDIRECTS | MARKUP | HTML_BY_DEFAULT | HTML_IF_TYPED | frozenset({
    "flask.jsonify", "flask.render_template", "django.shortcuts.render",
    "django.http.JsonResponse", "starlette.responses.JSONResponse",
    "fastapi.responses.JSONResponse", "aiohttp.web.json_response", "quart.jsonify",
    "quart.render_template", "django.template.loader.render_to_string",
    "flask.render_template_string", "quart.render_template_string", "flask.send_file",
    "flask.send_from_directory", "flask.abort", "django.http.FileResponse",
    "starlette.responses.FileResponse", "fastapi.responses.FileResponse",
    "aiohttp.web.FileResponse"})
# what the engine calls a jinja2.Environment made with autoescape=False
NOESCAPE_ENV = "jinja2.Environment+noescape"
NOESCAPE_TEMPLATE = "jinja2.Template+noescape"
_TYPE_KEYWORDS = ("content_type", "mimetype", "media_type")
# a URL that starts at a fixed origin, or a path of this site ("/x", not "//x")
_FIXED_ORIGIN = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#{}@%\s]+/|/[^/\\])")


class Interp(Protocol):
    objs: dict[str, str]

    def expr(self, node: ast.expr | None) -> Taint: ...

    def qualname(self, func: ast.expr) -> str: ...

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None: ...

    def module_dict(self, node: ast.expr) -> ast.Dict | None: ...

    html_names: set[str]
    mod: Any
    p: Any


def check_response(i: Interp, node: ast.Call, name: str, method: str | None,
                   args: list[Taint], kwargs: dict[str | None, Taint], receiver: Taint) -> None:
    first = args[0] if args else CLEAN
    if name in REDIRECTS:
        target = first | kwargs.get("url", CLEAN) | kwargs.get("location", CLEAN) \
            | kwargs.get("to", CLEAN)
        i.hit(node, "redirect", f"{name}()", target)
    elif name in MARKUP:
        i.hit(node, "xss", f"{name}()", first)
    elif name in HTML_BY_DEFAULT or name in HTML_IF_TYPED:
        declared = next((k.value for k in node.keywords if k.arg in _TYPE_KEYWORDS), None)
        if declared is None and len(node.args) > 2 and name.startswith("flask."):
            declared = node.args[2]
        html = (name in HTML_BY_DEFAULT and name not in HTML_IF_TYPED
                if declared is None else _says_html(declared))
        if html:
            body = first | kwargs.get("content", CLEAN) | kwargs.get("text", CLEAN) \
                | kwargs.get("body", CLEAN) | kwargs.get("response", CLEAN)
            i.hit(node, "xss", f"{name}()", body)
    elif method == "render" and _unescaped_template(i, node):
        i.hit(node, "xss", "Template.render()", _all(args, kwargs))


def check_dict(i: Interp, node: ast.Dict) -> None:
    """A response dict: ``Location`` header from input, or an HTML body from input."""
    entries = _entries(node)
    location = entries.get("location")
    if location is not None:
        i.hit(node, "redirect", "a Location header", i.expr(location))
    body = entries.get("body")
    for field in ("headers", "multivalueheaders"):
        headers = entries.get(field)
        if headers is not None and body is not None and html_headers(i, headers):
            i.hit(node, "xss", "an HTML response body", i.expr(body))


def html_headers(i: Interp, node: ast.expr | None, depth: int = 0) -> bool:
    """Whether a headers value sets an HTML ``Content-Type``.

    Followed: a literal dict and its ``**`` spreads, a module-level dict, a local name
    bound to such headers, ``dict(X, ...)``/``X.copy()``/``{**X}``, and an app function
    whose ``return`` gives such headers (``"headers": html_headers()``).
    """
    if node is None or depth > 4:
        return False
    if isinstance(node, ast.Dict):
        ctype = _entries(node).get("content-type")
        if ctype is not None:
            return _says_html(ctype)
        return any(k is None and html_headers(i, v, depth + 1)
                   for k, v in zip(node.keys, node.values, strict=True))
    if isinstance(node, ast.Name):
        if node.id in i.html_names:
            return True
        return html_headers(i, i.module_dict(node), depth + 1)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "copy":
            return html_headers(i, func.value, depth + 1)
        if i.qualname(func) == "dict":
            ctype = next((k.value for k in node.keywords if k.arg is not None
                          and k.arg.lower().replace("_", "-") == "content-type"), None)
            if ctype is not None:
                return _says_html(ctype)
            return any(html_headers(i, a, depth + 1) for a in
                       [*node.args, *(k.value for k in node.keywords if k.arg is None)])
        target = i.p.resolve(i.mod, i.qualname(func), None)
        if target is not None and target[2] is None:
            return any(isinstance(r, ast.Return) and html_headers(i, r.value, depth + 1)
                       for r in ast.walk(target[1]))
    return False


def check_store(i: Interp, target: ast.Subscript, value: Taint, base: Taint) -> None:
    """``resp["Location"] = x``, ``resp.headers["Location"] = x``, ``session[k] = x``."""
    key = target.slice
    if "@session" in base:
        i.hit(target, "trust-boundary", "session[...] =", value)
    elif isinstance(key, ast.Constant) and str(key.value).lower() == "location":
        i.hit(target, "redirect", "a Location header", value)


def fixed_origin(node: ast.expr, t: Taint) -> Taint:
    """A string whose literal start fixes scheme and host cannot be sent elsewhere."""
    if "ssrf" in t or "redirect" in t:
        prefix = literal_start(node)
        if prefix is not None and _FIXED_ORIGIN.match(prefix):
            kept = t - {"redirect"}
            return kept if prefix.startswith("/") else kept - {"ssrf"}
    return t


def literal_start(node: ast.expr | None) -> str | None:
    """The literal text a string expression starts with: ``f"(uid={v})"`` -> "(uid="."""
    while True:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            node = node.left
        elif isinstance(node, ast.JoinedStr) and node.values:
            node = node.values[0]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "format":
            node = node.func.value  # "(uid={})".format(v)
        else:
            break
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _entries(node: ast.Dict) -> dict[str, ast.expr]:
    return {str(k.value).lower(): v for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)}


def _says_html(node: ast.expr) -> bool:
    if isinstance(node, ast.List | ast.Tuple):  # multiValueHeaders: ["text/html"]
        return any(_says_html(e) for e in node.elts)
    return isinstance(node, ast.Constant) and "html" in str(node.value).lower()


def _unescaped_template(i: Interp, node: ast.Call) -> bool:
    return unescaped(i, getattr(node.func, "value", None))


def unescaped(i: Interp, node: ast.expr | None) -> bool:
    """Whether ``node`` is a jinja2 template or environment that escapes nothing.

    ``jinja2.Template(src)`` and ``Environment()`` escape only with autoescape=True
    (or a select_autoescape); a template taken from such an environment inherits it.
    """
    if isinstance(node, ast.Name):
        return i.objs.get(node.id) in (NOESCAPE_ENV, NOESCAPE_TEMPLATE)
    if not isinstance(node, ast.Call):
        return False
    made_by = i.qualname(node.func)
    if made_by in ("jinja2.Template", "jinja2.environment.Template"):
        auto = next((k.value for k in node.keywords if k.arg == "autoescape"), None)
        return auto is None or (isinstance(auto, ast.Constant) and not auto.value)
    if made_by in ("jinja2.Environment", "jinja2.environment.Environment"):
        auto = next((k.value for k in node.keywords if k.arg == "autoescape"), None)
        return isinstance(auto, ast.Constant) and not auto.value
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("from_string",
                                                                  "get_template"):
        return unescaped(i, node.func.value)
    return False


def _all(args: list[Taint], kwargs: dict[str | None, Taint]) -> Taint:
    out: set[str] = set()
    for t in [*args, *kwargs.values()]:
        out |= t
    return frozenset(out)
