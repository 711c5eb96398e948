"""SigV4 verification against the published AWS test suite and botocore-signed requests."""

from __future__ import annotations

import calendar
import hashlib
import time
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ramparts.aws import sigv4

DATA = Path(__file__).parent / "data" / "sigv4"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_NOW = float(calendar.timegm(time.strptime("20150830T123600Z", "%Y%m%dT%H%M%SZ")))


def _load(name: str) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    text = (DATA / name).read_bytes()
    head, _, body = text.partition(b"\n\n")
    lines = head.decode().split("\n")
    method, target, _ = lines[0].split(" ")
    path, _, query = target.partition("?")
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key, value))
    return method, path, query, headers, body


VECTORS = sorted(p.name for p in DATA.glob("*.txt"))


@pytest.mark.parametrize("name", VECTORS)
def test_published_vectors_verify(name: str) -> None:
    method, path, query, headers, body = _load(name)
    hmap = {k.lower(): v for k, v in headers}
    signed = sigv4.parse(hmap, query)
    assert signed.access_key_id == "AKIDEXAMPLE"
    assert signed.presigned == name.endswith(".query.txt")
    sigv4.verify(
        signed,
        SECRET,
        method=method,
        raw_path=path,
        raw_query=query,
        header_list=headers,
        body=body,
        now=SUITE_NOW,
    )


@pytest.mark.parametrize("name", VECTORS)
def test_published_vectors_refuse_a_wrong_secret(name: str) -> None:
    method, path, query, headers, body = _load(name)
    signed = sigv4.parse({k.lower(): v for k, v in headers}, query)
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.verify(
            signed,
            SECRET[:-1] + "X",
            method=method,
            raw_path=path,
            raw_query=query,
            header_list=headers,
            body=body,
            now=SUITE_NOW,
        )
    assert err.value.reason == "mismatch"


def test_a_tampered_vector_header_is_refused() -> None:
    method, path, query, headers, body = _load("get-header-value-trim.header.txt")
    headers = [(k, "value2" if k == "My-Header1" else v) for k, v in headers]
    signed = sigv4.parse({k.lower(): v for k, v in headers}, query)
    with pytest.raises(sigv4.SigV4Error, match="does not match"):
        sigv4.verify(
            signed,
            SECRET,
            method=method,
            raw_path=path,
            raw_query=query,
            header_list=headers,
            body=body,
            now=SUITE_NOW,
        )


def test_a_body_that_is_not_its_declared_hash_is_refused() -> None:
    method, path, query, headers, _ = _load("post-x-www-form-urlencoded.header.txt")
    signed = sigv4.parse({k.lower(): v for k, v in headers}, query)
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.verify(
            signed,
            SECRET,
            method=method,
            raw_path=path,
            raw_query=query,
            header_list=headers,
            body=b"Param1=value2",
            now=SUITE_NOW,
        )
    assert err.value.reason == "content_sha256"


def test_clock_skew_over_15_minutes_is_refused() -> None:
    method, path, query, headers, body = _load("get-vanilla-query-order-key-case.header.txt")
    signed = sigv4.parse({k.lower(): v for k, v in headers}, query)
    for offset in (-16 * 60, 16 * 60):
        with pytest.raises(sigv4.SigV4Error) as err:
            sigv4.verify(
                signed,
                SECRET,
                method=method,
                raw_path=path,
                raw_query=query,
                header_list=headers,
                body=body,
                now=SUITE_NOW + offset,
            )
        assert err.value.reason == "skewed"
    sigv4.verify(
        signed,
        SECRET,
        method=method,
        raw_path=path,
        raw_query=query,
        header_list=headers,
        body=body,
        now=SUITE_NOW + 14 * 60,
    )


def test_a_presigned_url_past_its_expiry_is_refused() -> None:
    method, path, query, headers, body = _load("get-vanilla-query-order-key-case.query.txt")
    signed = sigv4.parse({k.lower(): v for k, v in headers}, query)
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.verify(
            signed,
            SECRET,
            method=method,
            raw_path=path,
            raw_query=query,
            header_list=headers,
            body=body,
            now=SUITE_NOW + 3601,
        )
    assert err.value.reason == "url_expired"
    # the signed method is part of the signature: a GET URL is no PUT URL
    with pytest.raises(sigv4.SigV4Error, match="does not match"):
        sigv4.verify(
            signed,
            SECRET,
            method="PUT",
            raw_path=path,
            raw_query=query,
            header_list=headers,
            body=body,
            now=SUITE_NOW,
        )


@pytest.mark.parametrize(
    "query",
    [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2F"
        "s3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=604801"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0" * 64,
        "X-Amz-Signature=" + "0" * 64,
    ],
)
def test_malformed_presigned_queries_are_refused(query: str) -> None:
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.parse({"host": "x"}, query)
    assert err.value.reason == "malformed"


def _boto_signed(service: str, url: str, body: bytes, headers: dict[str, str]) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    auth_cls = S3SigV4Auth if service == "s3" else SigV4Auth
    auth_cls(Credentials("ASIAAAAAAAAAAAAAAAAA", SECRET, "tok"), service, "eu-west-1").add_auth(
        request
    )
    return request


@pytest.mark.parametrize("service", ["dynamodb", "s3", "sts"])
def test_botocore_signed_requests_verify(service: str) -> None:
    url = "http://127.0.0.1:8080/a%20b/c%2Fd?b=2&a=1&e=%E2%82%AC"
    request = _boto_signed(
        service, url, b'{"x": 1}', {"Content-Type": "application/x-amz-json-1.0"}
    )
    path, _, query = url.split("8080", 1)[1].partition("?")
    header_list = [(k, v) for k, v in request.headers.items()] + [("Host", "127.0.0.1:8080")]
    hmap = {k.lower(): v for k, v in header_list}
    signed = sigv4.parse(hmap, query)
    sigv4.verify(
        signed,
        SECRET,
        method="POST",
        raw_path=path,
        raw_query=query,
        header_list=header_list,
        body=b'{"x": 1}',
    )
    with pytest.raises(sigv4.SigV4Error):
        sigv4.verify(
            signed,
            SECRET,
            method="POST",
            raw_path=path,
            raw_query=query,
            header_list=header_list,
            body=b'{"x": 2}',
        )


def test_botocore_presigned_s3_url_verifies() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:8080/bucket/some%20key.txt")
    S3SigV4QueryAuth(
        Credentials("ASIAAAAAAAAAAAAAAAAA", SECRET, "tok"), "s3", "us-east-1", expires=60
    ).add_auth(request)
    path, _, query = request.url.split("8080", 1)[1].partition("?")
    header_list = [("Host", "127.0.0.1:8080")]
    signed = sigv4.parse({"host": "127.0.0.1:8080"}, query)
    assert signed.presigned and signed.security_token == "tok"
    sigv4.verify(
        signed,
        SECRET,
        method="GET",
        raw_path=path,
        raw_query=query,
        header_list=header_list,
        body=b"",
    )
    other = path.replace("some", "other")
    with pytest.raises(sigv4.SigV4Error):
        sigv4.verify(
            signed,
            SECRET,
            method="GET",
            raw_path=other,
            raw_query=query,
            header_list=header_list,
            body=b"",
        )


def test_chunk_signature_matches_the_s3_documentation_example() -> None:
    # docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html: the example upload
    doc_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # the S3 guide's own example key
    key = sigv4.signing_key(doc_secret, "20130524", "us-east-1", "s3")
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    first = sigv4.chunk_signature(
        key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed, b"a" * 65536
    )
    assert first == "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    assert hashlib.sha256(b"").hexdigest() == sigv4.EMPTY_SHA256_HASH
