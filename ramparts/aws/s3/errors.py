"""S3's errors: the codes botocore raises, with the extra elements S3 puts beside them.

S3 answers errors in ``<Error><Code>..</Code><Message>..</Message>...</Error>``
and some carry more (``<Key>`` of a NoSuchKey, ``<BucketName>`` of a
NoSuchBucket); a HEAD answer has no body, so botocore names its error after
the status (``404``), as it does against AWS.
"""

from __future__ import annotations

from ramparts.aws.protocols import XML, xml_escape
from ramparts.aws.service import AwsError, AwsResponse


class S3Error(AwsError):
    """An AWS error with S3's extra elements (``Key``, ``BucketName``, ``RangeRequested``...)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: str) -> None:
        super().__init__(code, message, status)
        self.extra = extra


def not_implemented(operation: str) -> S3Error:
    """An operation Ramparts' S3 does not implement: named, 501, never a hang or a 500."""
    return S3Error(
        "NotImplemented",
        f"S3 operation {operation} is not supported by Ramparts",
        501,
    )


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def access_denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied", 403)


def error_answer(error: AwsError, request_id: str, *, head: bool = False) -> AwsResponse:
    headers = [("x-amz-request-id", request_id), ("x-amzn-requestid", request_id)]
    if head:
        return AwsResponse(error.status, headers, b"")
    extra = getattr(error, "extra", {})
    body = (
        "<?xml version='1.0' encoding='UTF-8'?><Error>"
        f"<Code>{xml_escape(error.code)}</Code><Message>{xml_escape(error.message)}</Message>"
        + "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in extra.items())
        + f"<RequestId>{xml_escape(request_id)}</RequestId></Error>"
    )
    return AwsResponse(error.status, [("content-type", XML), *headers], body.encode())
