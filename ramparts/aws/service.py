"""What an AWS-compatible service sees of one call, and what it gives back.

The host side of ``AWS_ENDPOINT_URL``: a handler's boto3 client signs its
request with the credentials Ramparts issued to that function version; the
gateway hands every request that carries a SigV4 signature (an
``Authorization: AWS4-HMAC-SHA256 ...`` header, or ``X-Amz-Signature`` in the
query of a presigned URL) to :mod:`ramparts.aws.endpoint`, which verifies it,
finds the calling version (:class:`Caller`) and passes an :class:`AwsRequest`
to the :class:`Service` named by the signature's credential scope
(``dynamodb``, ``s3``, ``sqs`` ...).

A service never trusts anything in the request to say who the caller is: the
caller comes from the verified credentials only.  Every resource access goes
through ``Broker.authorize`` with the native action and resource ARN (so
roles written with native or AWS names decide it the same way, and it is
audited like a ``context.*`` call), and failures are raised as
:class:`AwsError` with the code botocore maps to its exception class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ramparts.broker import Broker
    from ramparts.runtime.types import FunctionSpec

Protocol_ = Literal["json", "rest-json", "rest-xml", "query"]


@dataclass(frozen=True)
class Caller:
    """The function version whose credentials signed the request."""

    spec: FunctionSpec
    account: str  # the 12-digit account id of ``spec.app`` (see ramparts.aws.accounts)
    region: str  # the node's --region


@dataclass
class AwsRequest:
    service: str  # the signing name from the credential scope: "dynamodb", "s3", ...
    method: str
    path: str  # percent-decoded path, as the gateway's ASGI scope has it
    raw_path: bytes  # as sent (S3 keys are percent-encoded in it)
    query: list[tuple[str, str]]  # decoded pairs, in order
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    caller: Caller
    request_id: str  # this call's id: audit events and x-amzn-requestid carry it
    endpoint: str  # scheme://host[:port] as the client addressed the node (presigned URLs)
    presigned: bool = False  # authenticated by the query string, not a header
    # the verified signature's seed, scope and key (ramparts.aws.endpoint._Signing): what
    # S3 needs to check aws-chunked chunk signatures; None outside the endpoint
    signing: Any = field(default=None, repr=False)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default


@dataclass
class AwsResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class AwsError(Exception):
    """An error botocore turns into the named exception (``ResourceNotFoundException``...)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Service(Protocol):
    """One AWS service over Ramparts' stores; registered in ``ramparts.aws.services``."""

    name: str  # the signing name in the credential scope
    protocol: Protocol_  # how errors are written back (ramparts.aws.protocols)

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse: ...
