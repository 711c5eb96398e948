"""STS over Ramparts: ``GetCallerIdentity``, the call SDKs and scripts use to ask "who am I".

The identity is the verified caller (never anything in the request):

- ``Account``: the app's 12-digit account id (:func:`ramparts.aws.accounts.account_id`);
- ``Arn``: ``arn:aws:sts::ACCOUNT:assumed-role/FUNCTION/VERSION_ID``, the shape
  Lambda code sees for its execution role's session, with the role named after
  the function and the session after the version id;
- ``UserId``: ``RAMPARTS:FUNCTION:VERSION12`` (an opaque, stable id per version).

Every other action answers ``InvalidAction`` naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from ramparts.aws.protocols import query_answer
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Protocol_

if TYPE_CHECKING:
    from ramparts.broker import Broker

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


class STS:
    name = "sts"
    protocol: Protocol_ = "query"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        params = dict(request.query)
        if request.method == "POST" and request.body:
            try:
                params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                raise AwsError("MalformedQueryString", "the body is not UTF-8 form data") from None
        action = params.get("Action", "")
        if action != "GetCallerIdentity":
            raise AwsError(
                "InvalidAction",
                f"STS action {action or '(none)'} is not supported by Ramparts "
                "(GetCallerIdentity is)",
                400,
            )
        caller = request.caller
        spec = caller.spec
        result = {
            "UserId": f"RAMPARTS:{spec.function}:{spec.version[:12]}",
            "Account": caller.account,
            "Arn": f"arn:aws:sts::{caller.account}:assumed-role/{spec.function}/{spec.version}",
        }
        return query_answer(action, result, request.request_id, XMLNS)
