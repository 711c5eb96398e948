"""The S3 service: operations of boto3's ``s3`` client over the app's object store.

Path-style addressing only (``{endpoint}/{bucket}/{key}``: botocore uses it
when ``AWS_ENDPOINT_URL`` points at an IP or a custom host with
``addressing_style=path``; a virtual-hosted ``bucket.host`` request is not
recognised).  Every object is the caller's app's own: app comes from the
verified caller, never from the request.

Each operation first asks the caller's role (``Broker.authorize`` with the
native action on the native ARN, so ``s3:*`` and ``objects:*`` roles decide it
alike and the decision is audited), then checks the bucket exists
(:mod:`.buckets`), then acts.  Writes go through ``Broker.object_write`` so
object triggers fire exactly as for ``context.objects.put``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ramparts.aws.s3.buckets import role_buckets
from ramparts.aws.s3.chunked import (
    STREAMING,
    ChunkSigner,
    decode_chunked,
    verify_checksums,
    verify_content_md5,
)
from ramparts.aws.s3.errors import (
    S3Error,
    access_denied,
    error_answer,
    no_such_bucket,
    no_such_key,
    not_implemented,
)
from ramparts.aws.s3.listing import decode_token, list_page
from ramparts.aws.s3.ranges import parse_range
from ramparts.aws.s3.wire import (
    http_date,
    iso_date,
    metadata_headers,
    parse_http_date,
    parse_xml,
    quoted_etag,
    split_path,
    url_encode,
    user_metadata,
    xml_answer,
)
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse
from ramparts.broker import KEY_RE, MAX_STORED_OBJECT_BYTES
from ramparts.errors import AccessDenied, InvalidRequest, NotFound
from ramparts.manifest import RESOURCE_NAME_RE
from ramparts.policy.document import resource_arn
from ramparts.store.base import MultipartStore, ObjectRecord, UploadRecord

if TYPE_CHECKING:
    from ramparts.broker import Broker

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last, as on S3
MAX_PARTS = 10_000
MAX_DELETE_KEYS = 1000
# aws-chunked framing around the largest object: chunk headers, signatures, trailers
_CHUNK_OVERHEAD = 1024 * 1024
_RESPONSE_HEADERS = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
# sub-resources of a bucket or object that name an operation Ramparts does not implement
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "POST": "Post", "HEAD": "Head"}


class S3:
    """``ramparts.aws.s3:S3`` in the registry of :mod:`ramparts.aws.services`."""

    name = "s3"
    protocol = "rest-xml"
    # the largest request body this service accepts (the endpoint reads at most this much)
    max_body_bytes = MAX_STORED_OBJECT_BYTES + _CHUNK_OVERHEAD

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        head = request.method == "HEAD"
        try:
            return await _Call(request, broker).run()
        except AccessDenied:
            return error_answer(access_denied(), request.request_id, head=head)
        except InvalidRequest as exc:
            if exc.code == "object_too_large":
                error = S3Error(
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    400,
                    MaxSizeAllowed=str(MAX_STORED_OBJECT_BYTES),
                )
            else:
                error = S3Error("InvalidArgument", exc.message, 400)
            return error_answer(error, request.request_id, head=head)
        except NotFound as exc:
            return error_answer(
                S3Error("NoSuchKey", exc.message, 404), request.request_id, head=head
            )
        except AwsError as exc:
            return error_answer(exc, request.request_id, head=head)


class _Call:
    """One request: who, which bucket and key, and the operation it names."""

    def __init__(self, request: AwsRequest, broker: Broker) -> None:
        self.r = request
        self.broker = broker
        self.spec = request.caller.spec
        self.app = request.caller.spec.app
        self.store = broker.store
        self.bucket, self.key = split_path(request.raw_path, request.path)
        # a presigned URL's own X-Amz-* parameters and botocore's x-id name no sub-resource
        self.query = {
            k for k, _ in request.query if not k.lower().startswith("x-amz-") and k != "x-id"
        }

    # -- plumbing ----------------------------------------------------------------------------
    def _headers(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        rid = self.r.request_id
        return [("x-amz-request-id", rid), ("x-amzn-requestid", rid), *extra]

    def _allow(self, action: str, resource: str | None = None) -> None:
        path = resource if resource is not None else f"{self.bucket}/{self.key}"
        self.broker.authorize(
            self.spec, self.r.request_id, action, resource_arn(self.app, "objects", path)
        )

    async def _thread(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    def _multipart(self) -> MultipartStore:
        store = self.store
        if not isinstance(store, MultipartStore):
            raise not_implemented("multipart uploads on this state store")
        return store

    async def _bucket_exists(self, bucket: str) -> bool:
        declared, documents = self.broker.object_buckets(self.spec)
        if bucket in declared or bucket in role_buckets(self.app, documents):
            return True
        if await self._thread(self.store.object_list, self.app, bucket, "", 1):
            return True
        store = self.store
        if isinstance(store, MultipartStore):
            return bool(await self._thread(store.upload_list, self.app, bucket, 1))
        return False

    async def _require_bucket(self, bucket: str | None = None) -> None:
        name = bucket if bucket is not None else self.bucket
        if not await self._bucket_exists(name):
            raise no_such_bucket(name)

    def _unsupported(self, level: str) -> S3Error:
        sub = sorted(self.query - {"uploadId", "partNumber", "x-id"})
        name = "".join(s[:1].upper() + s[1:] for s in sub[:1]) if sub else ""
        return not_implemented(f"{_VERBS.get(self.r.method, self.r.method)}{level}{name}")

    def _signer(self) -> ChunkSigner | None:
        """The verified request's signing key and seed (set by the SigV4 endpoint), if any."""
        signing = getattr(self.r, "signing", None)
        if signing is None:
            return None
        return ChunkSigner(
            signing_key=signing.key(),
            amz_date=signing.timestamp,
            scope=signing.scope,
            seed_signature=signing.seed_signature,
        )

    def _body(self) -> tuple[bytes, dict[str, str]]:
        """The request's payload (aws-chunked decoded) and every checksum field it came with."""
        body = self.r.body
        sha = self.r.header("x-amz-content-sha256")
        encoding = self.r.header("content-encoding")
        fields = {k: v for k, v in self.r.headers.items() if k.startswith("x-amz-checksum-")}
        if sha in STREAMING or "aws-chunked" in encoding:
            body, trailers = decode_chunked(body, sha, signer=self._signer())
            for name in filter(
                None, (n.strip().lower() for n in self.r.header("x-amz-trailer").split(","))
            ):
                if name not in trailers:  # a checksum promised and not sent is not skipped
                    raise S3Error(
                        "IncompleteBody",
                        f"the trailer {name} named by x-amz-trailer is missing",
                        400,
                    )
            declared = self.r.header("x-amz-decoded-content-length")
            if declared and declared != str(len(body)):
                raise S3Error(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the "
                    "x-amz-decoded-content-length header",
                    400,
                )
            fields.update(trailers)
        if len(body) > MAX_STORED_OBJECT_BYTES:
            raise InvalidRequest("too large", code="object_too_large")
        md5 = self.r.header("content-md5")
        if md5:
            verify_content_md5(body, md5)
        return body, verify_checksums(body, fields)

    # -- routing -----------------------------------------------------------------------------
    async def run(self) -> AwsResponse:
        method = self.r.method
        if not self.bucket:
            raise not_implemented("ListBuckets" if method == "GET" else f"{method} /")
        if not RESOURCE_NAME_RE.match(self.bucket):
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", 400)
        if self.key is None:
            return await self._bucket_op(method)
        if len(self.key.encode()) > 1024:
            raise S3Error("KeyTooLongError", "Your key is too long", 400)
        if not KEY_RE.match(self.key):
            raise S3Error("InvalidArgument", "keys may not contain control characters", 400)
        return await self._object_op(method)

    async def _bucket_op(self, method: str) -> AwsResponse:
        q = self.query - {"x-id"}
        if method == "GET" and q <= {
            "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "continuation-token",
            "start-after",
            "encoding-type",
            "fetch-owner",
        }:
            if self.r.param("list-type") == "2":
                return await self.list_objects_v2()
            raise not_implemented("ListObjects (v1; use ListObjectsV2)")
        if method == "HEAD" and not q:
            return await self.head_bucket()
        if method == "POST" and q == {"delete"}:
            return await self.delete_objects()
        if not q:
            raise not_implemented(
                {"PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, f"{method} bucket")
            )
        raise self._unsupported("Bucket")

    async def _object_op(self, method: str) -> AwsResponse:
        q = self.query - {"x-id"}
        if method == "GET" and q <= set(_RESPONSE_HEADERS) | {"partNumber"}:
            if "partNumber" in q:
                raise not_implemented("GetObject with partNumber")
            return await self.get_object(head=False)
        if method == "HEAD" and q <= set(_RESPONSE_HEADERS):
            return await self.get_object(head=True)
        if method == "PUT" and not q:
            if self.r.header("x-amz-copy-source"):
                return await self.copy_object()
            return await self.put_object()
        if method == "DELETE" and not q:
            return await self.delete_object()
        if method == "POST" and q == {"uploads"}:
            return await self.create_multipart()
        if method == "PUT" and q == {"uploadId", "partNumber"}:
            if self.r.header("x-amz-copy-source"):
                raise not_implemented("UploadPartCopy")
            return await self.upload_part()
        if method == "POST" and q == {"uploadId"}:
            return await self.complete_multipart()
        if method == "DELETE" and q == {"uploadId"}:
            return await self.abort_multipart()
        if (
            method == "GET"
            and q <= {"uploadId", "max-parts", "part-number-marker"}
            and "uploadId" in q
        ):
            return await self.list_parts()
        raise self._unsupported("Object")

    # -- objects -------------------------------------------------------------------------------
    def _object_headers(self, rec: ObjectRecord) -> list[tuple[str, str]]:
        return self._headers(
            ("etag", quoted_etag(rec.etag)),
            ("last-modified", http_date(rec.updated_at)),
            ("accept-ranges", "bytes"),
            *metadata_headers(rec.metadata),
        )

    def _conditions(self, rec: ObjectRecord) -> None:
        etag = quoted_etag(rec.etag)
        modified = int(rec.updated_at)
        if_match = self.r.header("if-match")
        if if_match and if_match != "*" and etag not in _etags(if_match):
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                412,
                Condition="If-Match",
            )
        since = parse_http_date(self.r.header("if-unmodified-since"))
        if not if_match and since is not None and modified > since:
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                412,
                Condition="If-Unmodified-Since",
            )
        none_match = self.r.header("if-none-match")
        if none_match:
            if none_match == "*" or etag in _etags(none_match):
                raise S3Error("NotModified", "Not Modified", 304)
            return
        since = parse_http_date(self.r.header("if-modified-since"))
        if since is not None and modified <= since:
            raise S3Error("NotModified", "Not Modified", 304)

    async def get_object(self, *, head: bool) -> AwsResponse:
        self._allow("objects:GetObject")
        found = await self._thread(self.store.object_get, self.app, self.bucket, self.key)
        if found is None:
            await self._require_bucket()
            raise no_such_key(self.key or "")
        rec, data = found
        try:
            self._conditions(rec)
        except S3Error as exc:
            if exc.status == 304:
                return AwsResponse(
                    304,
                    self._headers(
                        ("etag", quoted_etag(rec.etag)),
                        ("last-modified", http_date(rec.updated_at)),
                    ),
                    b"",
                )
            raise
        headers = self._object_headers(rec)
        ctype = rec.content_type
        overrides = {}
        for name, value in self.r.query:
            if name in _RESPONSE_HEADERS and value:
                overrides[_RESPONSE_HEADERS[name]] = value
        ctype = overrides.pop("content-type", ctype)
        headers.append(("content-type", ctype))
        headers.extend(overrides.items())
        span = parse_range(self.r.header("range"), rec.size)
        status = 200
        if span is not None:
            first, last = span
            data = data[first : last + 1]
            status = 206
            headers.append(("content-range", f"bytes {first}-{last}/{rec.size}"))
        headers.append(("content-length", str(len(data))))
        return AwsResponse(status, headers, b"" if head else data)

    async def put_object(self) -> AwsResponse:
        self._allow("objects:PutObject")
        data, checksums = self._body()
        meta = user_metadata(self.r.headers)
        ctype = self.r.header("content-type") or DEFAULT_CONTENT_TYPE
        await self._require_bucket()
        out = await self.broker.object_write(
            self.app, self.bucket, self.key or "", data, ctype, self.r.request_id, metadata=meta
        )
        return AwsResponse(
            200, self._headers(("etag", quoted_etag(out["etag"])), *checksums.items())
        )

    async def delete_object(self) -> AwsResponse:
        self._allow("objects:DeleteObject")
        removed = await self.broker.object_remove(
            self.app, self.bucket, self.key or "", self.r.request_id
        )
        if not removed:
            await self._require_bucket()
        return AwsResponse(204, self._headers())

    async def copy_object(self) -> AwsResponse:
        # "?versionId=" is split off before decoding: a "?" in the key itself arrives as %3F
        raw, _, version = self.r.header("x-amz-copy-source").partition("?")
        src_bucket, _, src_key = unquote(raw).lstrip("/").partition("/")
        if version:
            raise not_implemented("CopyObject from an object version")
        if not src_bucket or not src_key or not RESOURCE_NAME_RE.match(src_bucket):
            raise S3Error(
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                400,
            )
        self._allow("objects:GetObject", f"{src_bucket}/{src_key}")
        self._allow("objects:PutObject")
        directive = self.r.header("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise S3Error("InvalidArgument", "Unknown metadata directive.", 400)
        found = await self._thread(self.store.object_get, self.app, src_bucket, src_key)
        if found is None:
            await self._require_bucket(src_bucket)
            raise no_such_key(src_key)
        rec, data = found
        if directive == "COPY" and (src_bucket, src_key) == (self.bucket, self.key):
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
                400,
            )
        if directive == "COPY":
            ctype, meta = rec.content_type, rec.metadata
        else:
            ctype = self.r.header("content-type") or DEFAULT_CONTENT_TYPE
            meta = user_metadata(self.r.headers)
        await self._require_bucket()
        out = await self.broker.object_write(
            self.app, self.bucket, self.key or "", data, ctype, self.r.request_id, metadata=meta
        )
        return xml_answer(
            "CopyObjectResult",
            {"LastModified": iso_date(time.time()), "ETag": quoted_etag(out["etag"])},
            self.r.request_id,
        )

    # -- multipart uploads -------------------------------------------------------------------
    async def _upload(self) -> UploadRecord:
        upload_id = self.r.param("uploadId") or ""
        found = await self._thread(self._multipart().upload_get, self.app, upload_id)
        if found is None or (found.bucket, found.key) != (self.bucket, self.key):
            raise S3Error(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed.",
                404,
                UploadId=upload_id,
            )
        return found

    async def create_multipart(self) -> AwsResponse:
        self._allow("objects:PutObject")
        store = self._multipart()
        meta = user_metadata(self.r.headers)
        ctype = self.r.header("content-type") or DEFAULT_CONTENT_TYPE
        await self._require_bucket()
        upload = UploadRecord(
            secrets.token_urlsafe(32), self.bucket, self.key or "", ctype, meta, time.time()
        )
        await self._thread(store.upload_create, self.app, upload)
        return xml_answer(
            "InitiateMultipartUploadResult",
            {"Bucket": self.bucket, "Key": self.key, "UploadId": upload.upload_id},
            self.r.request_id,
        )

    async def upload_part(self) -> AwsResponse:
        self._allow("objects:PutObject")
        number_text = self.r.param("partNumber") or ""
        if not number_text.isdigit() or not 1 <= int(number_text) <= MAX_PARTS:
            raise S3Error(
                "InvalidArgument",
                f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
                400,
            )
        number = int(number_text)
        upload = await self._upload()
        data, checksums = self._body()
        store = self._multipart()
        parts = await self._thread(store.part_list, self.app, upload.upload_id)
        total = sum(p.size for p in parts if p.number != number) + len(data)
        if total > MAX_STORED_OBJECT_BYTES:
            raise InvalidRequest("too large", code="object_too_large")
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        await self._thread(
            store.part_put, self.app, upload.upload_id, number, data, size=len(data), etag=etag
        )
        return AwsResponse(200, self._headers(("etag", quoted_etag(etag)), *checksums.items()))

    async def complete_multipart(self) -> AwsResponse:
        self._allow("objects:PutObject")
        upload = await self._upload()
        root = parse_xml(self.r.body)
        wanted: list[tuple[int, str]] = []
        for part in root.findall("Part"):
            number, etag = part.findtext("PartNumber"), part.findtext("ETag")
            if number is None or not number.strip().isdigit() or etag is None:
                raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag", 400)
            wanted.append((int(number), etag.strip().strip('"')))
        if root.tag != "CompleteMultipartUpload" or not wanted:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
                400,
            )
        numbers = [n for n, _ in wanted]
        if numbers != sorted(set(numbers)):
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. "
                "Parts must be ordered by part number.",
                400,
            )
        store = self._multipart()
        stored = {
            p.number: p for p in await self._thread(store.part_list, self.app, upload.upload_id)
        }
        for i, (number, etag) in enumerate(wanted):
            part = stored.get(number)
            if part is None or part.etag != etag:
                raise S3Error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                    400,
                    UploadId=upload.upload_id,
                    PartNumber=str(number),
                    ETag=etag,
                )
            if i < len(wanted) - 1 and part.size < MIN_PART_BYTES:
                raise S3Error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    400,
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_BYTES),
                    PartNumber=str(number),
                    ETag=etag,
                )
        chunks = []
        for number, _ in wanted:
            data = await self._thread(store.part_get, self.app, upload.upload_id, number)
            if data is None:  # aborted meanwhile
                raise S3Error(
                    "NoSuchUpload",
                    "The specified upload does not exist.",
                    404,
                    UploadId=upload.upload_id,
                )
            chunks.append(data)
        body = b"".join(chunks)
        del chunks
        digest = hashlib.md5(b"".join(bytes.fromhex(e) for _, e in wanted), usedforsecurity=False)
        etag = f"{digest.hexdigest()}-{len(wanted)}"
        out = await self.broker.object_write(
            self.app,
            upload.bucket,
            upload.key,
            body,
            upload.content_type,
            self.r.request_id,
            metadata=upload.metadata,
            etag=etag,
        )
        await self._thread(store.upload_delete, self.app, upload.upload_id)
        location = f"{self.r.endpoint}/{self.bucket}/{url_encode(upload.key)}"
        return xml_answer(
            "CompleteMultipartUploadResult",
            {
                "Location": location,
                "Bucket": self.bucket,
                "Key": upload.key,
                "ETag": quoted_etag(out["etag"]),
            },
            self.r.request_id,
        )

    async def abort_multipart(self) -> AwsResponse:
        self._allow("objects:PutObject")
        upload = await self._upload()
        await self._thread(self._multipart().upload_delete, self.app, upload.upload_id)
        return AwsResponse(204, self._headers())

    async def list_parts(self) -> AwsResponse:
        self._allow("objects:PutObject")
        upload = await self._upload()
        parts = await self._thread(self._multipart().part_list, self.app, upload.upload_id)
        return xml_answer(
            "ListPartsResult",
            {
                "Bucket": self.bucket,
                "Key": self.key,
                "UploadId": upload.upload_id,
                "PartNumberMarker": 0,
                "NextPartNumberMarker": parts[-1].number if parts else 0,
                "MaxParts": MAX_PARTS,
                "IsTruncated": False,
                "Part": [
                    {"PartNumber": p.number, "ETag": quoted_etag(p.etag), "Size": p.size}
                    for p in parts
                ],
            },
            self.r.request_id,
        )

    # -- buckets -------------------------------------------------------------------------------
    async def head_bucket(self) -> AwsResponse:
        self._allow("objects:ListBucket", self.bucket)
        await self._require_bucket()
        return AwsResponse(200, self._headers(("x-amz-bucket-region", self.r.caller.region)))

    async def list_objects_v2(self) -> AwsResponse:
        self._allow("objects:ListBucket", self.bucket)
        prefix = self.r.param("prefix") or ""
        delimiter = self.r.param("delimiter") or ""
        token = self.r.param("continuation-token")
        start_after = self.r.param("start-after") or ""
        encoding = self.r.param("encoding-type")
        if encoding not in (None, "url"):
            raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
        max_text = self.r.param("max-keys") or "1000"
        if not max_text.isdigit():
            raise S3Error(
                "InvalidArgument", "Provided max-keys not an integer or within integer range", 400
            )
        max_keys = min(int(max_text), 1000)
        after = decode_token(token) if token is not None else start_after
        await self._require_bucket()

        def fetch(pfx: str, cursor: str, limit: int) -> list[ObjectRecord]:
            return self.store.object_list(self.app, self.bucket, pfx, limit, after=cursor)

        page = await self._thread(list_page, fetch, prefix, delimiter, max_keys, after)
        enc = url_encode if encoding == "url" else (lambda v: v)
        data: dict[str, Any] = {
            "Name": self.bucket,
            "Prefix": enc(prefix),
            "Delimiter": enc(delimiter) if delimiter else None,
            "MaxKeys": max_keys,
            "EncodingType": encoding,
            "KeyCount": page.count,
            "IsTruncated": page.truncated,
            "ContinuationToken": token,
            "NextContinuationToken": page.next_token if page.truncated else None,
            "StartAfter": enc(start_after) if start_after else None,
            "Contents": [
                {
                    "Key": enc(rec.key),
                    "LastModified": iso_date(rec.updated_at),
                    "ETag": quoted_etag(rec.etag),
                    "Size": rec.size,
                    "StorageClass": "STANDARD",
                }
                for rec in page.contents
            ],
            "CommonPrefixes": [{"Prefix": enc(p)} for p in page.prefixes],
        }
        return xml_answer("ListBucketResult", data, self.r.request_id)

    async def delete_objects(self) -> AwsResponse:
        self._body()  # checks Content-MD5 / checksums of the XML
        root = parse_xml(self.r.body)
        keys = [el.findtext("Key") for el in root.findall("Object")]
        if (
            root.tag != "Delete"
            or not keys
            or any(k is None for k in keys)
            or len(keys) > MAX_DELETE_KEYS
        ):
            raise S3Error(
                "MalformedXML", f"Delete names 1 to {MAX_DELETE_KEYS} objects, each with a Key", 400
            )
        quiet = (root.findtext("Quiet") or "").strip().lower() == "true"
        deleted: list[dict[str, str]] = []
        errors: list[dict[str, str]] = []
        checked_bucket = False
        for key in keys:
            try:
                if key is None:
                    raise S3Error("MalformedXML", "an Object has no Key", 400)
                if not KEY_RE.match(key):
                    raise S3Error("InvalidArgument", "keys may not contain control characters", 400)
                self._allow("objects:DeleteObject", f"{self.bucket}/{key}")
                if not checked_bucket:
                    await self._require_bucket()
                    checked_bucket = True
                await self.broker.object_remove(self.app, self.bucket, key, self.r.request_id)
                deleted.append({"Key": key})
            except AccessDenied:
                errors.append({"Key": key, "Code": "AccessDenied", "Message": "Access Denied"})
            except S3Error as exc:
                if exc.code == "NoSuchBucket":
                    raise
                errors.append({"Key": key, "Code": exc.code, "Message": exc.message})
        return xml_answer(
            "DeleteResult",
            {"Deleted": [] if quiet else deleted, "Error": errors},
            self.r.request_id,
        )


def _etags(header: str) -> set[str]:
    out = set()
    for part in header.split(","):
        tag = part.strip().removeprefix("W/")
        if tag and not tag.startswith('"'):
            tag = f'"{tag}"'
        out.add(tag)
    return out
