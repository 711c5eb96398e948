"""``aws-chunked`` request bodies and the checksums that come with them.

An SDK that streams an upload sends ``Content-Encoding: aws-chunked`` with a
body of ``hex-size[;chunk-signature=SIG]\\r\\n<bytes>\\r\\n`` chunks, a final
zero-size chunk, then trailers (``x-amz-checksum-crc32:...``) named by the
``x-amz-trailer`` header.  ``x-amz-content-sha256`` says how it is protected:

- ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: chunks unsigned; a checksum trailer
  protects the data (botocore sends this over HTTPS);
- ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``: every chunk carries a
  signature chained from the request's seed signature; each is verified with
  the request's signing key (:class:`ChunkSigner`) or the body is refused.

Checksums (``x-amz-checksum-crc32``, ``-crc32c``, ``-sha1``, ``-sha256``, as a
header or a trailer) are verified against the decoded bytes; a mismatch is
``BadDigest`` and nothing is stored.  CRC32C and CRC64NVME need a native
library Ramparts does not ship: an upload naming them is refused (400), never
stored unchecked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ramparts.aws.s3.errors import S3Error

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING = (UNSIGNED_TRAILER, SIGNED, SIGNED_TRAILER)
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MAX_TRAILER_BYTES = 16 * 1024


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


# algorithm (as in the header name) -> digest of the whole body
CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": _crc32,
    "sha1": lambda d: hashlib.sha1(d, usedforsecurity=False).digest(),
    "sha256": lambda d: hashlib.sha256(d).digest(),
}
UNSUPPORTED_CHECKSUMS = ("crc32c", "crc64nvme")


@dataclass(frozen=True)
class ChunkSigner:
    """What verifying chunk signatures needs from the request's own SigV4 check."""

    signing_key: bytes
    amz_date: str  # the request's X-Amz-Date
    scope: str  # date/region/service/aws4_request
    seed_signature: str  # the Authorization header's signature

    def sign(self, previous: str, chunk: bytes) -> str:
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                self.amz_date,
                self.scope,
                previous,
                _EMPTY_SHA256,
                hashlib.sha256(chunk).hexdigest(),
            )
        )
        return hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


def _malformed(why: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked body is malformed: {why}", 400)


def decode_chunked(
    body: bytes, content_sha256: str, *, signer: ChunkSigner | None = None
) -> tuple[bytes, dict[str, str]]:
    """The data and the trailers (lower-case names) of an ``aws-chunked`` body."""
    signed = content_sha256 in (SIGNED, SIGNED_TRAILER)
    if signed and signer is None:
        raise S3Error(
            "NotImplemented",
            "signed aws-chunked payloads cannot be verified on this request",
            501,
        )
    previous = signer.seed_signature if signer is not None else ""
    out: list[bytes] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise _malformed("a chunk header has no end")
        header = body[pos:end].decode("latin-1")
        size_text, _, ext = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _malformed("a chunk size is not hexadecimal") from None
        if size < 0:
            raise _malformed("a negative chunk size")
        start = end + 2
        chunk = body[start : start + size]
        if len(chunk) != size:
            raise _malformed("a chunk is shorter than its size")
        if signed and signer is not None:
            name, _, sig = ext.partition("=")
            expected = signer.sign(previous, chunk)
            if name.strip() != "chunk-signature" or not hmac.compare_digest(
                sig.strip().encode(), expected.encode()
            ):
                raise S3Error(
                    "SignatureDoesNotMatch",
                    "A chunk signature does not match the request's signing key",
                    403,
                )
            previous = expected
        pos = start + size
        if size == 0:
            break
        out.append(chunk)
        if body[pos : pos + 2] != b"\r\n":
            raise _malformed("a chunk does not end with CRLF")
        pos += 2
    trailers: dict[str, str] = {}
    rest = body[pos:]
    if len(rest) > _MAX_TRAILER_BYTES:
        raise _malformed("the trailer section is too long")
    for line in rest.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _malformed("a trailer line has no ':'")
        trailers[name.strip().lower()] = value.strip()
    return b"".join(out), trailers


def verify_checksums(data: bytes, fields: dict[str, str]) -> dict[str, str]:
    """Check every ``x-amz-checksum-*`` in ``fields`` (headers and trailers) against ``data``.

    Returns the verified ``{header name: base64 value}`` (echoed in the answer).
    """
    verified: dict[str, str] = {}
    for name, value in fields.items():
        if not name.startswith("x-amz-checksum-") or name in (
            "x-amz-checksum-mode",
            "x-amz-checksum-type",
            "x-amz-checksum-algorithm",
        ):
            continue
        algorithm = name.removeprefix("x-amz-checksum-")
        if algorithm in UNSUPPORTED_CHECKSUMS:
            raise S3Error(
                "InvalidRequest",
                f"checksum algorithm {algorithm.upper()} is not supported by Ramparts; "
                "use CRC32, SHA1 or SHA256",
                400,
            )
        digest = CHECKSUMS.get(algorithm)
        if digest is None:
            raise S3Error("InvalidRequest", f"unknown checksum header {name}", 400)
        try:
            claimed = base64.b64decode(value, validate=True)
        except ValueError:
            raise S3Error("InvalidRequest", f"{name} is not base64", 400) from None
        if not hmac.compare_digest(claimed, digest(data)):
            raise S3Error(
                "BadDigest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                400,
            )
        verified[name] = value
    return verified


def verify_content_md5(data: bytes, value: str) -> None:
    """``Content-MD5`` (base64 MD5 of the body): malformed -> InvalidDigest, wrong -> BadDigest."""
    try:
        claimed = base64.b64decode(value, validate=True)
    except ValueError:
        claimed = b""
    if len(claimed) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified is not valid.", 400)
    if not hmac.compare_digest(claimed, hashlib.md5(data, usedforsecurity=False).digest()):
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
