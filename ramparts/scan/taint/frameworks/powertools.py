"""AWS Lambda Powertools event handler (``APIGatewayRestResolver`` and kin) and Chalice.

Both route a Lambda's HTTP event to decorated functions: ``@app.get("/files/<name>")``
(Powertools) or ``@app.route("/items/{name}")`` (Chalice) passes the URL's
parameters to the function, and the current request is read from the app
object: ``app.current_event`` (Powertools) or ``app.current_request``
(Chalice). That object is a request (``REQUEST`` marker); the parts below are
attacker data, the rest (``request_context``, ``method``) is AWS's. A route
function's return value is serialised as JSON by both, so it is not an HTML
response.
"""

from __future__ import annotations

from ramparts.scan.taint.frameworks.base import ATTACKER, Entry, is_route
from ramparts.scan.taint.index import ClassInfo, Function, ModuleIndex, positional

ROOTS = frozenset({"aws_lambda_powertools", "chalice"})
# the app object's attribute that holds the request being handled
CURRENT = frozenset({"current_event", "current_request"})
REQUEST_ATTRS = frozenset({
    # Powertools (APIGatewayProxyEvent, APIGatewayProxyEventV2, ALBEvent, LambdaFunctionUrl)
    "json_body", "body", "decoded_body", "query_string_parameters",
    "multi_value_query_string_parameters", "resolved_query_string_parameters",
    "path_parameters", "headers", "multi_value_headers", "resolved_headers_field",
    "cookies", "raw_event", "path", "raw_path", "raw_query_string",
    # Chalice (chalice.app.Request)
    "query_params", "uri_params", "raw_body", "context", "stage_vars",
})
REQUEST_METHODS = frozenset({"get_query_string_value", "get_multi_value_query_string_values",
                             "get_header_value"})


def made_by_router(ctor: str) -> bool:
    """Whether a module-level object was made by one of these frameworks' app classes."""
    return ctor.split(".", 1)[0] in ROOTS


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if cls is not None or not ROOTS & mod.imported_roots or not is_route(fn):
        return None
    e = Entry(fn, "lambda-router")
    e.params = {p: ATTACKER for p in positional(fn)}
    for star in (fn.args.vararg, fn.args.kwarg):
        if star is not None:
            e.params[star.arg] = ATTACKER
    for arg in fn.args.kwonlyargs:
        e.params[arg.arg] = ATTACKER
    return e
