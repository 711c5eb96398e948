"""Secrets Manager (awsJson 1.1, ``secretsmanager.*``) over the app's secret store.

``GetSecretValue`` returns the current version of one of the calling app's
secrets (or one shared with it), read through the same authorization,
auditing and redaction as ``context.secrets.get``.  ``DescribeSecret``
returns the same secret's metadata and is authorized as
``secrets:GetSecretValue`` too (Ramparts has no weaker native action, so it
is never easier to describe a secret than to read it).

Only the current version exists to AWS callers: ``VersionStage`` other than
``AWSCURRENT`` and any ``VersionId`` but the current one's answer
``ResourceNotFoundException``.  Values are text (``SecretString``): the
store holds no binary secrets.  Every other operation answers
``UnsupportedOperation``; secrets are created and rotated with
``ramparts secrets``, never by a function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ramparts.aws import awsjson
from ramparts.aws.protocols import JSON_11, error_response, json_answer, unsupported
from ramparts.aws.secretaccess import SecretRead, WrongRegion, check_place, read_secret
from ramparts.aws.secretnames import SecretNameError, parse_secret_id, secret_arn
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse
from ramparts.errors import AccessDenied, InvalidRequest, NotFound

if TYPE_CHECKING:
    from ramparts.broker import Broker

CURRENT = "AWSCURRENT"


def _not_found(secret_id: str, why: str = "") -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"Secrets Manager can't find the specified secret{why}.",
        400,
    )


class SecretsManager:
    name = "secretsmanager"
    protocol = "json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            op = awsjson.operation(request, "secretsmanager", "secretsmanager")
            params = awsjson.Params(awsjson.body(request))
            if op == "GetSecretValue":
                return await self._get(request, broker, params)
            if op == "DescribeSecret":
                return await self._describe(request, broker, params)
            raise unsupported("secretsmanager", op)
        except AwsError as exc:
            return error_response("json", exc, request.request_id, json_prefix="secretsmanager")

    async def _read(self, request: AwsRequest, broker: Broker, secret_id: str) -> SecretRead:
        caller = request.caller
        try:
            ref = parse_secret_id(secret_id)
        except SecretNameError as exc:
            raise _not_found(secret_id, f" ({exc})") from None
        try:
            check_place(broker, caller, request.request_id, ref)
            return await read_secret(broker, caller, request.request_id, ref.name)
        except WrongRegion:
            raise _not_found(secret_id, " in this region") from None
        except AccessDenied:
            raise AwsError(
                "AccessDeniedException",
                f"User: {caller.spec.function} is not authorized to perform: "
                f"secretsmanager:GetSecretValue on resource: {secret_id}",
                400,
            ) from None
        except NotFound:
            raise _not_found(secret_id) from None
        except InvalidRequest:
            raise _not_found(secret_id) from None

    async def _get(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> AwsResponse:
        secret_id = params.required_string("SecretId")
        stage = params.string("VersionStage", max_len=256)
        wanted_version = params.string("VersionId", max_len=64)
        found = await self._read(request, broker, secret_id)
        if stage is not None and stage != CURRENT:
            raise AwsError(
                "ResourceNotFoundException",
                f"Secrets Manager can't find the specified secret value for staging label: "
                f"{stage} (Ramparts keeps only {CURRENT})",
            )
        if wanted_version is not None and wanted_version != found.version_id:
            raise AwsError(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret value for VersionId: "
                f"{wanted_version} (only the current version can be read)",
            )
        caller = request.caller
        return json_answer(
            {
                "ARN": secret_arn(caller.spec.app, caller.region, found.name),
                "Name": found.name,
                "VersionId": found.version_id,
                "SecretString": found.value,
                "VersionStages": [CURRENT],
                "CreatedDate": found.updated_at,
            },
            request.request_id,
            content_type=JSON_11,
        )

    async def _describe(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> AwsResponse:
        secret_id = params.required_string("SecretId")
        found = await self._read(request, broker, secret_id)
        caller = request.caller
        return json_answer(
            {
                "ARN": secret_arn(caller.spec.app, caller.region, found.name),
                "Name": found.name,
                "CreatedDate": found.created_at,
                "LastChangedDate": found.updated_at,
                "VersionIdsToStages": {found.version_id: [CURRENT]},
            },
            request.request_id,
            content_type=JSON_11,
        )
