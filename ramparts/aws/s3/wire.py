"""S3's wire format beyond errors: paths, XML bodies in and out, dates, metadata headers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs refused below; expat >= 2.4 caps expansion
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

from ramparts.aws.protocols import XML, xml_elements
from ramparts.aws.s3.errors import S3Error
from ramparts.aws.service import AwsResponse

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 2 * 1024  # S3's limit on x-amz-meta-* names and values together
_META = "x-amz-meta-"
_META_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$")


def split_path(raw_path: bytes, path: str) -> tuple[str, str | None]:
    """``/bucket/a%2Fb`` -> ``("bucket", "a/b")``; ``/bucket`` -> ``("bucket", None)``.

    ``/`` -> ``("", None)``; the key is percent-decoded from the path as sent.
    """
    raw = raw_path.decode("latin-1") if raw_path else quote(path)
    raw = raw.split("?", 1)[0]
    bucket, sep, key = raw.lstrip("/").partition("/") if raw.startswith("/") else ("", "", "")
    if not sep or key == "":
        return unquote(bucket), None
    return unquote(bucket), unquote(key)


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def iso_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


def xml_answer(root: str, data: dict[str, Any], request_id: str, status: int = 200) -> AwsResponse:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{xml_elements(data)}</{root}>'
    )
    return AwsResponse(
        status,
        [("content-type", XML), ("x-amz-request-id", request_id), ("x-amzn-requestid", request_id)],
        body.encode(),
    )


def parse_xml(body: bytes) -> ET.Element:
    """A request's XML body, namespaces stripped; anything odd is ``MalformedXML``."""
    if len(body) > MAX_XML_BYTES:
        raise S3Error("MalformedXML", "The XML you provided was too large", 400)
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise S3Error("MalformedXML", "The XML you provided may not contain a DTD", 400)
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD (checked above), bounded size
    except ET.ParseError:
        raise S3Error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
            400,
        ) from None
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def user_metadata(headers: dict[str, str]) -> dict[str, str]:
    """``x-amz-meta-*`` headers as ``{name: value}`` (names lower-case, as S3 returns them)."""
    meta = {k[len(_META) :]: v for k, v in headers.items() if k.startswith(_META)}
    size = 0
    for name, value in meta.items():
        if not _META_NAME.match(name) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise S3Error("InvalidArgument", f"invalid user metadata {_META}{name[:64]}", 400)
        size += len(name.encode()) + len(value.encode())
    if size > MAX_METADATA_BYTES:
        raise S3Error(
            "MetadataTooLarge",
            f"Your metadata headers exceed the maximum allowed metadata size ({size} bytes)",
            400,
        )
    return meta


def metadata_headers(meta: dict[str, str]) -> list[tuple[str, str]]:
    return [(f"{_META}{k}", v) for k, v in sorted(meta.items())]


def url_encode(value: str) -> str:
    """``EncodingType=url`` answers: what botocore decodes again before the caller sees it."""
    return quote(value, safe="/")
