"""SSM Parameter Store (awsJson 1.1, ``AmazonSSM.*``): the app's secrets read by path.

A parameter is one of the calling app's secrets named by a path
(``/app/db/password`` is the secret ``app.db.password``; see
:mod:`ramparts.aws.secretnames`).  Every parameter is a ``SecureString``:
Ramparts has no store of plain configuration values (those are the
manifest's ``environment:``), so there is no ``String`` type.

Authorization is per secret, exactly as ``context.secrets.get``
(``secrets:GetSecretValue``, from the function's ``secrets:`` list or a
role statement), audited per parameter:

- ``GetParameter``: denied -> ``AccessDeniedException``; missing ->
  ``ParameterNotFound``.
- ``GetParameters``: every name is authorized first; one denied name denies
  the whole call (``AccessDeniedException``, as AWS does); names that do not
  exist or are not valid names come back in ``InvalidParameters``.
- ``GetParametersByPath``: the parameters under the path that the role
  allows are returned and the others are left out (each refusal is still an
  audit event); if the path holds parameters and the role allows none of
  them, the call is ``AccessDeniedException``, as AWS answers a role without
  access to the path.  Only the app's own secrets are listed (secrets shared
  by another app are read by name, never listed).  Paging: ``MaxResults``
  1 to 10 (default 10) and an opaque ``NextToken``.

``WithDecryption=false`` (the default, as on AWS) never reads the value: the
call is still authorized, and ``Value`` is a fixed placeholder rather than
AWS's ciphertext, which no caller could use anyway.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import TYPE_CHECKING, Any

from ramparts.aws import awsjson
from ramparts.aws.protocols import JSON_11, error_response, json_answer, unsupported
from ramparts.aws.secretaccess import (
    SECRET_ACTION,
    SecretRead,
    WrongRegion,
    check_place,
    read_secret,
)
from ramparts.aws.secretnames import (
    SecretNameError,
    is_secret_name,
    parameter_arn,
    parse_parameter,
    path_prefix,
    secret_to_parameter,
)
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.errors import AccessDenied, InvalidRequest, NotFound
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

PLACEHOLDER = "(SecureString: call with WithDecryption=True to read the value)"
MAX_BY_PATH = 10


def _not_found(name: str) -> AwsError:
    return AwsError("ParameterNotFound", f"Parameter {name} not found.", 400)


def _denied(caller: Caller, name: str) -> AwsError:
    return AwsError(
        "AccessDeniedException",
        f"User: {caller.spec.function} is not authorized to perform: ssm:GetParameter "
        f"on resource: {name}",
        400,
    )


class SSM:
    name = "ssm"
    protocol = "json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            op = awsjson.operation(request, "AmazonSSM", "ssm")
            params = awsjson.Params(awsjson.body(request))
            if op == "GetParameter":
                answer = await self._get_one(request, broker, params)
            elif op == "GetParameters":
                answer = await self._get_many(request, broker, params)
            elif op == "GetParametersByPath":
                answer = await self._by_path(request, broker, params)
            else:
                raise unsupported("ssm", op)
            return json_answer(answer, request.request_id, content_type=JSON_11)
        except AwsError as exc:
            return error_response("json", exc, request.request_id)

    # -- one parameter --------------------------------------------------------------------------
    def _secret_of(self, request: AwsRequest, broker: Broker, name: str) -> str:
        try:
            ref = parse_parameter(name)
        except SecretNameError as exc:
            raise awsjson.validation(str(exc)) from None
        try:
            check_place(broker, request.caller, request.request_id, ref)
        except WrongRegion:
            raise _not_found(name) from None
        except AccessDenied:
            raise _denied(request.caller, name) from None
        return ref.name

    async def _read(
        self, request: AwsRequest, broker: Broker, secret: str, decrypt: bool
    ) -> SecretRead | None:
        """The parameter, None when missing; raises ``AccessDenied`` from the broker."""
        try:
            if decrypt:
                return await read_secret(broker, request.caller, request.request_id, secret)
            return await self._metadata_only(request, broker, secret)
        except (NotFound, InvalidRequest):
            return None

    async def _metadata_only(
        self, request: AwsRequest, broker: Broker, secret: str
    ) -> SecretRead | None:
        caller = request.caller
        broker.authorize(
            caller.spec,
            request.request_id,
            SECRET_ACTION,
            resource_arn(caller.spec.app, "secret", secret),
        )
        store = broker.secrets
        resolve = getattr(store, "resolve", None)
        describe = getattr(store, "describe", None)
        if resolve is None or describe is None:
            value = await asyncio.to_thread(store.get, secret, app=caller.spec.app)
            return None if value is None else SecretRead(secret, PLACEHOLDER, 1, 0.0, 0.0)
        owner = await asyncio.to_thread(resolve, secret, app=caller.spec.app)
        if owner is None:
            return None
        info = await asyncio.to_thread(describe, owner, secret)
        return SecretRead(
            secret,
            PLACEHOLDER,
            int(info["current_version"]),
            float(info["created_at"]),
            float(info["updated_at"]),
        )

    def _parameter(self, caller: Caller, found: SecretRead) -> dict[str, Any]:
        return {
            "Name": secret_to_parameter(found.name),
            "Type": "SecureString",
            "Value": found.value,
            "Version": found.version,
            "LastModifiedDate": found.updated_at,
            "ARN": parameter_arn(caller.spec.app, caller.region, found.name),
            "DataType": "text",
        }

    async def _get_one(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        name = params.required_string("Name")
        decrypt = params.boolean("WithDecryption")
        secret = self._secret_of(request, broker, name)
        try:
            found = await self._read(request, broker, secret, decrypt)
        except AccessDenied:
            raise _denied(request.caller, name) from None
        if found is None:
            raise _not_found(name)
        return {"Parameter": self._parameter(request.caller, found)}

    # -- several by name --------------------------------------------------------------------------
    async def _get_many(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        names = params.string_list("Names", low=1, high=10)
        decrypt = params.boolean("WithDecryption")
        caller = request.caller
        invalid: list[str] = []
        wanted: list[tuple[str, str]] = []
        for name in dict.fromkeys(names):  # AWS answers a repeated name once
            try:
                wanted.append((name, self._secret_of(request, broker, name)))
            except AwsError as exc:
                if exc.code != "ValidationException":
                    raise
                invalid.append(name)
        # Authorize every name before reading any: one refusal refuses the call.
        for name, secret in wanted:
            try:
                broker.authorize(
                    caller.spec,
                    request.request_id,
                    SECRET_ACTION,
                    resource_arn(caller.spec.app, "secret", secret),
                )
            except AccessDenied:
                raise _denied(caller, name) from None
        out = []
        for name, secret in wanted:
            try:
                found = await self._read(request, broker, secret, decrypt)
            except AccessDenied:
                raise _denied(caller, name) from None
            if found is None:
                invalid.append(name)
            else:
                out.append(self._parameter(caller, found))
        return {"Parameters": out, "InvalidParameters": invalid}

    # -- by path ----------------------------------------------------------------------------
    async def _by_path(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        path = params.required_string("Path")
        recursive = params.boolean("Recursive")
        decrypt = params.boolean("WithDecryption")
        limit = params.integer("MaxResults", low=1, high=MAX_BY_PATH) or MAX_BY_PATH
        token = params.string("NextToken", max_len=1024)
        if params.data.get("ParameterFilters"):
            raise awsjson.validation("ParameterFilters are not supported by Ramparts")
        try:
            prefix = path_prefix(path)
        except SecretNameError as exc:
            raise awsjson.validation(str(exc)) from None
        after = _token_name(token) if token else ""
        caller = request.caller
        names = await asyncio.to_thread(
            self._names_under, broker, caller.spec.app, prefix, recursive
        )
        out: list[dict[str, Any]] = []
        denied = allowed = 0
        next_token = None
        last = ""
        for secret in names:
            if secret <= after:
                continue
            if len(out) == limit:
                next_token = _token(last)
                break
            try:
                found = await self._read(request, broker, secret, decrypt)
            except AccessDenied:
                denied += 1
                continue
            allowed += 1
            if found is not None:
                out.append(self._parameter(caller, found))
                last = secret
        if denied and not allowed and not after:
            raise AwsError(
                "AccessDeniedException",
                f"User: {caller.spec.function} is not authorized to perform: "
                f"ssm:GetParametersByPath on resource: {path}",
                400,
            )
        answer: dict[str, Any] = {"Parameters": out}
        if next_token:
            answer["NextToken"] = next_token
        return answer

    @staticmethod
    def _names_under(broker: Broker, app: str, prefix: str, recursive: bool) -> list[str]:
        listing = getattr(broker.secrets, "list", None)
        if listing is None:
            return []
        names = []
        for row in listing(app):
            name = row["name"]
            if row.get("state") != "active" or not is_secret_name(name):
                continue
            if not name.startswith(prefix):
                continue
            if not recursive and "." in name[len(prefix) :]:
                continue
            names.append(name)
        return sorted(names)


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(b"r1:" + name.encode()).decode()


def _token_name(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        raise AwsError("InvalidNextToken", "The NextToken is not valid.") from None
    if not raw.startswith(b"r1:"):
        raise AwsError("InvalidNextToken", "The NextToken is not valid.")
    name = raw[3:].decode("utf-8", "replace")
    if not is_secret_name(name):
        raise AwsError("InvalidNextToken", "The NextToken is not valid.")
    return name
