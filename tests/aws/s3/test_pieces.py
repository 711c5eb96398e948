"""The S3 service's building blocks, without a node: ranges, aws-chunked, checksums, XML."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib

import pytest

from ramparts.aws.s3 import chunked
from ramparts.aws.s3.buckets import role_buckets
from ramparts.aws.s3.errors import S3Error, error_answer, no_such_key
from ramparts.aws.s3.ranges import parse_range
from ramparts.aws.s3.wire import parse_xml, split_path, user_metadata

# -- ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-1000", 100, (0, 99)),  # a suffix longer than the object: all of it
        ("bytes=95-200", 100, (95, 99)),  # the end is clipped
        ("", 100, None),
        ("bytes=0-1,5-6", 100, None),  # several ranges: S3 sends the whole object
        ("items=0-1", 100, None),
        ("bytes=9-3", 100, None),  # an invalid spec is ignored (RFC 9110)
    ],
)
def test_ranges(header: str, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_unsatisfiable_range_is_416(header: str, size: int) -> None:
    with pytest.raises(S3Error) as err:
        parse_range(header, size)
    assert (err.value.code, err.value.status) == ("InvalidRange", 416)
    assert err.value.extra["ActualObjectSize"] == str(size)


# -- aws-chunked -----------------------------------------------------------------------------
def _unsigned(chunks: list[bytes], trailers: str = "") -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


def test_unsigned_chunks_and_trailer_checksum() -> None:
    data = [b"hello ", b"world" * 1000]
    crc = base64.b64encode(zlib.crc32(b"".join(data)).to_bytes(4, "big")).decode()
    body = _unsigned(data, f"x-amz-checksum-crc32:{crc}\r\n")
    decoded, trailers = chunked.decode_chunked(body, chunked.UNSIGNED_TRAILER)
    assert decoded == b"".join(data)
    assert chunked.verify_checksums(decoded, trailers) == {"x-amz-checksum-crc32": crc}


def test_wrong_checksum_is_bad_digest() -> None:
    body = _unsigned([b"abc"], "x-amz-checksum-crc32:AAAAAA==\r\n")
    decoded, trailers = chunked.decode_chunked(body, chunked.UNSIGNED_TRAILER)
    with pytest.raises(S3Error) as err:
        chunked.verify_checksums(decoded, trailers)
    assert err.value.code == "BadDigest"
    sha = base64.b64encode(hashlib.sha256(b"abd").digest()).decode()
    with pytest.raises(S3Error) as err:
        chunked.verify_checksums(b"abc", {"x-amz-checksum-sha256": sha})
    assert err.value.code == "BadDigest"


def test_unsupported_checksum_is_refused_not_ignored() -> None:
    with pytest.raises(S3Error) as err:
        chunked.verify_checksums(b"abc", {"x-amz-checksum-crc32c": "AAAAAA=="})
    assert err.value.code == "InvalidRequest" and "CRC32C" in err.value.message


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"10\r\nabc\r\n0\r\n\r\n", b"3\r\nabc", b"3\r\nabcXX0\r\n\r\n"],
)
def test_malformed_chunks(body: bytes) -> None:
    with pytest.raises(S3Error) as err:
        chunked.decode_chunked(body, chunked.UNSIGNED_TRAILER)
    assert err.value.code == "IncompleteBody"


def _key(secret: str, date: str, region: str, service: str) -> bytes:
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


# AWS's published example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD (sigv4-streaming)
SIGNER = chunked.ChunkSigner(
    signing_key=_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
    amz_date="20130524T000000Z",
    scope="20130524/us-east-1/s3/aws4_request",
    seed_signature="4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
)
SIGS = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]


def _signed(chunks: list[bytes], sigs: list[str]) -> bytes:
    return b"".join(
        b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), s.encode(), c) for c, s in zip(chunks, sigs)
    )


def test_signed_chunks_match_aws_example() -> None:
    body = _signed([b"a" * 65536, b"a" * 1024, b""], SIGS)
    decoded, _ = chunked.decode_chunked(body, chunked.SIGNED, signer=SIGNER)
    assert decoded == b"a" * 66560


def test_tampered_signed_chunk_is_refused() -> None:
    body = _signed([b"a" * 65535 + b"b", b"a" * 1024, b""], SIGS)
    with pytest.raises(S3Error) as err:
        chunked.decode_chunked(body, chunked.SIGNED, signer=SIGNER)
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)
    # a chunk dropped (the chain of signatures breaks)
    body = _signed([b"a" * 1024, b""], SIGS[1:])
    with pytest.raises(S3Error):
        chunked.decode_chunked(body, chunked.SIGNED, signer=SIGNER)


def test_signed_chunks_without_a_key_are_refused() -> None:
    body = _signed([b"a" * 65536, b"a" * 1024, b""], SIGS)
    with pytest.raises(S3Error) as err:
        chunked.decode_chunked(body, chunked.SIGNED)
    assert err.value.status == 501


def test_content_md5() -> None:
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    chunked.verify_content_md5(b"abc", good)
    with pytest.raises(S3Error) as err:
        chunked.verify_content_md5(b"abd", good)
    assert err.value.code == "BadDigest"
    with pytest.raises(S3Error) as err:
        chunked.verify_content_md5(b"abc", "not-md5")
    assert err.value.code == "InvalidDigest"


# -- wire ---------------------------------------------------------------------------------------
def test_split_path() -> None:
    assert split_path(b"/b/a%2Fb%20c", "/b/a/b c") == ("b", "a/b c")
    assert split_path(b"/b/dir/x.txt", "") == ("b", "dir/x.txt")
    assert split_path(b"/b", "/b") == ("b", None)
    assert split_path(b"/b/", "/b/") == ("b", None)
    assert split_path(b"/", "/") == ("", None)


def test_xml_refuses_dtds_and_garbage() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><Delete>&x;</Delete>'
    for body in (bomb, b"<Delete><Object>", b"\x00"):
        with pytest.raises(S3Error) as err:
            parse_xml(body)
        assert err.value.code == "MalformedXML"
    root = parse_xml(
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet></Delete>'
    )
    assert root.tag == "Delete" and root.findtext("Quiet") == "true"


def test_user_metadata() -> None:
    assert user_metadata({"x-amz-meta-owner": "ann", "content-type": "x"}) == {"owner": "ann"}
    with pytest.raises(S3Error) as err:
        user_metadata({"x-amz-meta-big": "v" * 3000})
    assert err.value.code == "MetadataTooLarge"


def test_error_answer_names_the_key_and_head_has_no_body() -> None:
    answer = error_answer(no_such_key("a/b<c"), "rid-1")
    assert answer.status == 404
    assert b"<Code>NoSuchKey</Code>" in answer.body and b"<Key>a/b&lt;c</Key>" in answer.body
    assert error_answer(no_such_key("k"), "rid-1", head=True).body == b""


def test_role_buckets_are_literal_names_of_this_app() -> None:
    docs = [
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"},
                {"Effect": "Allow", "Action": "objects:*", "Resource": ["objects:uploads/*"]},
                {"Effect": "Allow", "Action": "objects:*", "Resource": "objects:tmp-*/x"},
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "arn:ramparts:objects:other:bucket/b/*",
                },
                {"Effect": "Deny", "Action": "*", "Resource": "objects:secret/*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
            ]
        }
    ]
    assert role_buckets("shop", docs) == {"photos", "uploads"}
