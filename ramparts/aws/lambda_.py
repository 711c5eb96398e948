"""Lambda ``Invoke`` over Ramparts functions (rest-json).

``POST /2015-03-31/functions/{FunctionName}/invocations`` with the function
as a name, ``name:qualifier`` or ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``
of the caller's own account (another account is refused before anything is
looked up).  The only qualifier is ``$LATEST``, meaning the live version:
aliases and versions of the registry are not addressable from here.

- ``RequestResponse`` (the default) runs the function now through the same
  path as ``context.invoke`` (``functions:Invoke`` checked and audited) and
  answers 200 with its result; a function that raised answers 200 with
  ``X-Amz-Function-Error: Unhandled`` and an ``errorMessage``/``errorType``
  payload, as Lambda does; a function with no free worker within its
  timeout answers 429 ``TooManyRequestsException``; a quarantined function
  answers 409 ``ResourceConflictException`` "Function quarantined" (not
  retried by SDKs, unlike a throttle).
- ``Event`` is queued durably on the function's own queue and answered 202;
  the dispatcher runs it soon, retrying a failure twice with backoff (as
  Lambda's asynchronous invocation does) and then recording a dead letter.
- ``DryRun`` answers 204 once authorization and the function's existence
  are checked.

``LogType: Tail`` is accepted and ignored (no ``X-Amz-Log-Result``: logs are
read with ``ramparts logs``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson

from ramparts.aws import messaging
from ramparts.aws.protocols import error_response
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.errors import AccessDenied, InvalidRequest, NotFound, RampartsError
from ramparts.policy.document import resource_arn
from ramparts.runtime.nesting import MAX_DEPTH, nesting_depth

if TYPE_CHECKING:
    from ramparts.broker import Broker

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 256 * 1024
_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_FUNCTION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_STATUS = {
    "ResourceNotFoundException": 404,
    "AccessDeniedException": 403,
    "TooManyRequestsException": 429,
    "RequestTooLargeException": 413,
    "ResourceConflictException": 409,
}


def function_arn(caller: Caller, function: str) -> str:
    return f"arn:aws:lambda:{caller.region}:{caller.account}:function:{function}"


def parse_function_name(caller: Caller, raw: str, qualifier: str | None) -> str:
    """The function a ``FunctionName`` (+ ``Qualifier``) names in the caller's own app."""
    name = raw
    if name.startswith("arn:"):
        region, account, resource = messaging.parse_arn(
            name, "lambda", "InvalidParameterValueException"
        )
        messaging.check_region(caller, region, "AccessDeniedException")
        messaging.check_account(caller, account, "the function", "AccessDeniedException")
        if not resource.startswith("function:"):
            raise AwsError("InvalidParameterValueException", "FunctionName is not a function ARN.")
        name = resource.removeprefix("function:")
    elif name.count(":") >= 2:  # partial ARN: ACCOUNT:function:NAME[:QUALIFIER]
        account, _, rest = name.partition(":")
        messaging.check_account(caller, account, "the function", "AccessDeniedException")
        if not rest.startswith("function:"):
            raise AwsError("InvalidParameterValueException", "FunctionName is not valid.")
        name = rest.removeprefix("function:")
    name, _, inline = name.partition(":")
    for q in (inline or None, qualifier):
        if q is not None and q != "$LATEST":
            raise AwsError(
                "ResourceNotFoundException",
                f"Function not found: {function_arn(caller, name[:64])}:{q[:64]} "
                "(Ramparts invokes the live version only: omit the qualifier or use $LATEST)",
            )
    if not _FUNCTION.match(name):
        raise AwsError(
            "ResourceNotFoundException", f"Function not found: {function_arn(caller, name[:64])}"
        )
    return name


class Lambda:
    name = "lambda"
    protocol = "rest-json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            return await self._handle(request, broker)
        except AwsError as err:
            err.status = _STATUS.get(err.code, err.status)
            return error_response("rest-json", err, request.request_id)

    async def _handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            raise AwsError(
                "UnsupportedOperation",
                f"Lambda {request.method} {request.path[:128]} is not supported by Ramparts "
                "(only Invoke is)",
            )
        caller = request.caller
        function = parse_function_name(caller, unquote(match.group(1)), request.param("Qualifier"))
        kind = request.header("x-amz-invocation-type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise AwsError(
                "InvalidParameterValueException", f"Invalid InvocationType {kind[:32]!r}"
            )
        limit = MAX_SYNC_PAYLOAD if kind == "RequestResponse" else MAX_ASYNC_PAYLOAD
        if len(request.body) > limit:
            raise AwsError(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the {kind} invocation type",
            )
        try:
            payload = orjson.loads(request.body) if request.body.strip() else {}
        except orjson.JSONDecodeError:
            raise AwsError(
                "InvalidRequestContentException", "Could not parse request body into json"
            ) from None
        if nesting_depth(payload) > MAX_DEPTH:
            raise AwsError(
                "InvalidRequestContentException",
                f"The payload is nested deeper than {MAX_DEPTH} levels",
            )
        if kind == "RequestResponse":
            return await self._sync(request, broker, function, payload)
        spec = caller.spec
        try:
            broker.authorize(
                spec,
                request.request_id,
                "functions:Invoke",
                resource_arn(spec.app, "function", function),
            )
        except AccessDenied:
            raise _denied(caller, function) from None
        if not broker.function_exists(spec.app, function):
            raise AwsError(
                "ResourceNotFoundException", f"Function not found: {function_arn(caller, function)}"
            )
        if kind == "DryRun":
            return AwsResponse(204, [("x-amzn-requestid", request.request_id)], b"")
        try:
            await broker.enqueue_invocation(spec.app, function, payload, f"lambda:{spec.function}")
        except InvalidRequest as exc:
            raise AwsError("InvalidRequestContentException", exc.message) from None
        return AwsResponse(
            202,
            [("x-amzn-requestid", request.request_id), ("content-type", "application/json")],
            b"",
        )

    async def _sync(
        self, request: AwsRequest, broker: Broker, function: str, payload: Any
    ) -> AwsResponse:
        caller = request.caller
        headers = [
            ("x-amzn-requestid", request.request_id),
            ("content-type", "application/json"),
            ("x-amz-executed-version", "$LATEST"),
        ]
        try:
            result = await broker.invoke_function(
                caller.spec, request.request_id, function, payload
            )
        except AccessDenied:
            raise _denied(caller, function) from None
        except NotFound:
            raise AwsError(
                "ResourceNotFoundException", f"Function not found: {function_arn(caller, function)}"
            ) from None
        except InvalidRequest as exc:
            raise AwsError("InvalidRequestContentException", exc.message) from None
        except RampartsError as exc:
            status = getattr(exc, "result_status", None)
            error_type = getattr(exc, "error_type", None) or "Unhandled"
            if error_type == "FunctionQuarantined" or exc.code == "function_quarantined":
                # Not a throttle: retrying will not help until an operator releases it.
                # Lambda answers a function whose state forbids invocation with 409
                # ResourceConflictException, which SDKs do not retry.
                raise AwsError(
                    "ResourceConflictException",
                    f"Function quarantined: {function_arn(caller, function)} is quarantined "
                    "and cannot be invoked until it is released.",
                    409,
                ) from None
            if status == "throttled":
                # A concurrency cap or an exhausted invocation budget: Lambda's throttle.
                budget = error_type == "BudgetExhausted"
                message = "Budget Exhausted." if budget else "Rate Exceeded."
                err = AwsError("TooManyRequestsException", message, 429)
                response = error_response("rest-json", err, request.request_id)
                response.body = orjson.dumps(
                    {
                        "Reason": "FunctionInvocationBudgetExhausted"
                        if budget
                        else "ReservedFunctionConcurrentInvocationLimitExceeded",
                        "Type": "User",
                        "message": message,
                    }
                )
                retry_after = getattr(exc, "retry_after", None)
                if budget and retry_after:
                    response.headers.append(("retry-after", str(retry_after)))
                return response
            message = getattr(exc, "error_message", None) or f"{function} failed"
            body = {"errorMessage": message, "errorType": error_type, "stackTrace": []}
            return AwsResponse(
                200, [*headers, ("x-amz-function-error", "Unhandled")], orjson.dumps(body)
            )
        return AwsResponse(200, headers, orjson.dumps(result))


def _denied(caller: Caller, function: str) -> AwsError:
    return AwsError(
        "AccessDeniedException",
        f"User: {caller.spec.function} is not authorized to perform: lambda:InvokeFunction on "
        f"resource: {function_arn(caller, function)}",
        403,
    )
