"""S3 through boto3 on a real node, compared call by call with moto (the reference AWS).

The same scenario (put/get/head with metadata, ranged GETs, listing with
pagination and a delimiter, copy, delete, 16 MiB ``upload_file`` as multipart
and ``download_file``, the error codes of a missing key and an unsatisfiable
range, presigned GET and PUT) runs against a moto server and against Ramparts,
and what boto3 returns is compared.  Then what only Ramparts does: policy,
audit, object triggers, presigned URLs that are tampered with or expired, and
the client used from inside a sandboxed handler the way AWS documents it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import zlib
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.conftest import boto_client
from tests.conftest import RunningNode, make_app

BUCKET = "uploads"
# SigV4 for presigned URLs too (botocore presigns S3 with SigV2 unless told), path-style
S3_CONFIG = Config(
    signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}
)

MANIFEST = """
app: files
functions:
  s3user:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [objects:GetObject, objects:PutObject, objects:DeleteObject]
          resources: ["objects:uploads/*", "objects:other/*"]
        - effect: allow
          actions: [objects:ListBucket]
          resources: ["objects:uploads"]
  reader:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [objects:GetObject]
          resources: ["objects:uploads/*"]
  aws-named:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [s3:GetObject, s3:PutObject]
          resources: ["arn:aws:s3:::uploads/aws/*", "arn:aws:s3:::awsonly/*"]
        - effect: allow
          actions: [s3:ListBucket]
          resources: ["arn:aws:s3:::uploads"]
  on-upload:
    handler: h.py:on_upload
    triggers:
      - object: {bucket: uploads, events: [created], prefix: trig/}
  app-fn:
    handler: app.py:handler
    timeout: 60s
    memory: 512Mi
    role:
      statements:
        - effect: allow
          actions: [objects:GetObject, objects:PutObject]
          resources: ["objects:uploads/*"]
"""

HANDLERS = {
    "h.py": """
        def handler(event, context):
            return {"ok": True}

        def on_upload(event, context):
            obj = event["Records"][0]["s3"]["object"]
            print("OBJECT", event["Records"][0]["eventName"], obj["key"], obj["size"])
            return {"ok": True}
    """,
    # Written the way AWS's S3 examples use the client in a Lambda handler.
    "app.py": """
        import hashlib
        import os

        import boto3

        s3 = None  # made on first use: a deploy's import check runs before the version is live


        def handler(event, context):
            global s3
            s3 = s3 or boto3.client("s3")
            op = event["op"]
            if op == "roundtrip":
                src = "/tmp/big.bin"
                with open(src, "wb") as f:
                    f.write(os.urandom(event["size"]))
                s3.upload_file(src, "uploads", event["key"])
                dst = "/tmp/back.bin"
                s3.download_file("uploads", event["key"], dst)
                digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
                return {"same": digest(src) == digest(dst), "sha256": digest(src)}
            if op == "presign":
                url = s3.generate_presigned_url(
                    event["method"],
                    Params={"Bucket": "uploads", "Key": event["key"]},
                    ExpiresIn=event.get("expires", 300),
                )
                return {"url": url}
            if op == "native_get":
                try:
                    return {"size": len(context.objects.get("uploads", event["key"]))}
                except Exception as exc:
                    return {"error": type(exc).__name__, "code": getattr(exc, "code", None)}
            raise ValueError(op)
    """,
}


@pytest.fixture(scope="module")
def app(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = make_app(tmp_path_factory.mktemp("files") / "files", MANIFEST, HANDLERS)
    return aws_node.deploy_ok(root)


@pytest.fixture(scope="module")
def s3(aws_node: RunningNode, app: dict[str, Any]) -> Any:
    return boto_client(aws_node, "s3", "s3user", app="files", config=S3_CONFIG)


@pytest.fixture(scope="module")
def moto_s3(moto_server: str) -> Any:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        config=S3_CONFIG,
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def _code(call: Any) -> tuple[str, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]


def scenario(s3: Any, tmp: Path, prefix: str) -> dict[str, Any]:
    """One run of the same boto3 calls; what they return, without times and request ids."""
    out: dict[str, Any] = {}
    put = s3.put_object(
        Bucket=BUCKET,
        Key=f"{prefix}/doc.txt",
        Body=b"hello world",
        ContentType="text/plain",
        Metadata={"owner": "ann", "Stage": "draft"},
    )
    out["put_etag"] = put["ETag"]
    got = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt")
    out["get"] = (got["Body"].read(), got["ContentType"], got["Metadata"], got["ContentLength"])
    head = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt")
    out["head"] = (head["ETag"], head["ContentLength"], head["Metadata"], head["ContentType"])
    ranged = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", Range="bytes=0-4")
    out["range"] = (
        ranged["Body"].read(),
        ranged["ContentRange"],
        ranged["ResponseMetadata"]["HTTPStatusCode"],
    )
    tail = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", Range="bytes=-5")
    out["suffix"] = (tail["Body"].read(), tail["ContentRange"])
    code, err = _code(
        lambda: s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", Range="bytes=50-")
    )
    out["invalid_range"] = code
    code, err = _code(lambda: s3.get_object(Bucket=BUCKET, Key=f"{prefix}/missing"))
    out["no_such_key"] = (code, err.get("Key"))
    out["head_missing"] = _code(lambda: s3.head_object(Bucket=BUCKET, Key=f"{prefix}/missing"))[0]
    # conditional GETs
    etag = put["ETag"]
    out["if_none_match"] = _code(
        lambda: s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", IfNoneMatch=etag)
    )[0]
    out["if_match_wrong"] = _code(
        lambda: s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", IfMatch='"abc"')
    )[0]
    out["if_match"] = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/doc.txt", IfMatch=etag)[
        "Body"
    ].read()
    out["head_bucket"] = s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"]
    # listing: pagination and a delimiter
    for name in ("a/1", "a/2", "b/1", "c.txt", "d.txt", "e/x/1"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/list/{name}", Body=name.encode())
    pages = []
    kwargs: dict[str, Any] = {
        "Bucket": BUCKET,
        "Prefix": f"{prefix}/list/",
        "Delimiter": "/",
        "MaxKeys": 2,
    }
    while True:
        page = s3.list_objects_v2(**kwargs)
        pages.append(
            (
                [c["Key"] for c in page.get("Contents", [])],
                [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                page["KeyCount"],
                page["IsTruncated"],
            )
        )
        if not page["IsTruncated"]:
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    out["pages"] = pages
    flat = s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{prefix}/list/", PaginationConfig={"PageSize": 4}
    )
    out["flat"] = [(c["Key"], c["Size"], c["ETag"]) for p in flat for c in p.get("Contents", [])]
    after = s3.list_objects_v2(
        Bucket=BUCKET, Prefix=f"{prefix}/list/", StartAfter=f"{prefix}/list/b/1"
    )
    out["start_after"] = [c["Key"] for c in after["Contents"]]
    # copy, with the metadata kept and replaced
    copied = s3.copy_object(
        Bucket=BUCKET,
        Key=f"{prefix}/copy.txt",
        CopySource={"Bucket": BUCKET, "Key": f"{prefix}/doc.txt"},
    )
    out["copy_etag"] = copied["CopyObjectResult"]["ETag"]
    head = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/copy.txt")
    out["copy_meta"] = (head["Metadata"], head["ContentType"])
    s3.copy_object(
        Bucket=BUCKET,
        Key=f"{prefix}/copy2.txt",
        CopySource=f"{BUCKET}/{prefix}/doc.txt",
        MetadataDirective="REPLACE",
        Metadata={"new": "1"},
        ContentType="application/x-new",
    )
    head = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/copy2.txt")
    out["replaced_meta"] = (head["Metadata"], head["ContentType"])
    # delete: idempotent
    out["delete"] = s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/copy.txt")["ResponseMetadata"][
        "HTTPStatusCode"
    ]
    out["delete_again"] = s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/copy.txt")[
        "ResponseMetadata"
    ]["HTTPStatusCode"]
    out["after_delete"] = _code(lambda: s3.get_object(Bucket=BUCKET, Key=f"{prefix}/copy.txt"))[0]
    # 16 MiB through upload_file (multipart: 2 parts of 8 MiB) and download_file (ranged GETs)
    data = hashlib.sha256(prefix.encode()).digest() * (16 * 1024 * 1024 // 32)
    src = tmp / f"{prefix}-src.bin"
    src.write_bytes(data)
    config = TransferConfig(
        multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024
    )
    s3.upload_file(str(src), BUCKET, f"{prefix}/big.bin", Config=config)
    dst = tmp / f"{prefix}-dst.bin"
    s3.download_file(BUCKET, f"{prefix}/big.bin", str(dst), Config=config)
    out["big_same"] = dst.read_bytes() == data
    out["big_etag"] = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/big.bin")["ETag"]
    middle = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/big.bin", Range="bytes=9000000-9000009")
    out["big_range"] = middle["Body"].read() == data[9000000:9000010]
    # presigned GET and PUT, used by a plain HTTP client
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": f"{prefix}/doc.txt"}
    )
    r = httpx.get(url)
    out["presigned_get"] = (r.status_code, r.content)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": f"{prefix}/pre.txt"}
    )
    r = httpx.put(url, content=b"via presigned put")
    assert r.status_code == 200, r.text
    out["presigned_put"] = r.status_code
    out["presigned_put_body"] = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/pre.txt")["Body"].read()
    # an unknown bucket
    out["no_bucket"] = _code(lambda: s3.get_object(Bucket="nonexistent-bkt", Key="k"))[0]
    return out


def test_same_answers_as_moto(s3: Any, moto_s3: Any, tmp_path: Path, aws_node: RunningNode) -> None:
    theirs = scenario(moto_s3, tmp_path, "cmp")
    ours = scenario(s3, tmp_path, "cmp")
    for key in theirs:
        if key == "no_bucket":
            continue  # moto answers NoSuchBucket; Ramparts denies first: see below
        assert ours[key] == theirs[key], (key, ours[key], theirs[key])
    assert theirs["no_bucket"] == "NoSuchBucket"
    # s3user's role does not cover "nonexistent-bkt": refused before existence is looked at
    assert ours["no_bucket"] == "AccessDenied"


# -- what only Ramparts does -------------------------------------------------------------------
def test_digests_are_checked_and_nothing_is_stored(s3: Any) -> None:
    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code, _ = _code(
        lambda: s3.put_object(Bucket=BUCKET, Key="dg/md5", Body=b"data", ContentMD5=bad_md5)
    )
    assert code == "BadDigest"
    code, _ = _code(
        lambda: s3.put_object(Bucket=BUCKET, Key="dg/crc", Body=b"data", ChecksumCRC32="AAAAAA==")
    )
    assert code == "BadDigest"
    for key in ("dg/md5", "dg/crc"):
        assert _code(lambda k=key: s3.head_object(Bucket=BUCKET, Key=k))[0] == "404"
    good = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    s3.put_object(Bucket=BUCKET, Key="dg/ok", Body=b"data", ChecksumCRC32=good)
    assert s3.get_object(Bucket=BUCKET, Key="dg/ok")["Body"].read() == b"data"


def test_denied_by_policy_is_access_denied_and_audited(
    aws_node: RunningNode, app: dict[str, Any], s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key="pol/readable", Body=b"r")
    reader = boto_client(aws_node, "s3", "reader", app="files", config=S3_CONFIG)
    assert reader.get_object(Bucket=BUCKET, Key="pol/readable")["Body"].read() == b"r"
    assert _code(lambda: reader.put_object(Bucket=BUCKET, Key="pol/w", Body=b"x"))[0] == (
        "AccessDenied"
    )
    assert _code(lambda: reader.list_objects_v2(Bucket=BUCKET))[0] == "AccessDenied"
    assert _code(lambda: reader.delete_object(Bucket=BUCKET, Key="pol/readable"))[0] == (
        "AccessDenied"
    )
    # copy needs GetObject on the source and PutObject on the destination
    assert (
        _code(
            lambda: reader.copy_object(
                Bucket=BUCKET, Key="pol/copy", CopySource=f"{BUCKET}/pol/readable"
            )
        )[0]
        == "AccessDenied"
    )
    assert _code(lambda: s3.head_object(Bucket=BUCKET, Key="pol/w"))[0] == "404"
    denials = [
        e
        for e in aws_node.audit()
        if e["kind"] == "resource.access"
        and e["decision"] == "deny"
        and e["principal"].startswith("function:reader@")
    ]
    assert {(e["action"], e["resource"]) for e in denials} >= {
        ("objects:PutObject", "arn:ramparts:objects:files:bucket/uploads/pol/w"),
        ("objects:ListBucket", "arn:ramparts:objects:files:bucket/uploads"),
        ("objects:DeleteObject", "arn:ramparts:objects:files:bucket/uploads/pol/readable"),
        ("objects:PutObject", "arn:ramparts:objects:files:bucket/uploads/pol/copy"),
    }


def test_boto3_put_fires_the_object_trigger(
    aws_node: RunningNode, app: dict[str, Any], s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key="trig/photo.png", Body=b"png!")
    rows = aws_node.wait_invocations("on-upload", 1, timeout=60)
    assert "OBJECT ObjectCreated:Put trig/photo.png 4" in rows[0]["logs"]
    s3.put_object(Bucket=BUCKET, Key="elsewhere/photo.png", Body=b"png!")
    s3.put_object(Bucket=BUCKET, Key="trig/second.png", Body=b"22")
    rows = aws_node.wait_invocations("on-upload", 2, timeout=60)
    assert not any("elsewhere" in r["logs"] for r in rows)


def _presigned(s3: Any, method: str, key: str, expires: int = 300) -> str:
    return s3.generate_presigned_url(  # type: ignore[no-any-return]
        method, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires
    )


def _xml_code(r: httpx.Response) -> str:
    m = re.search(rb"<Code>([^<]+)</Code>", r.content)
    return m.group(1).decode() if m else ""


def test_tampered_and_expired_presigned_urls_are_refused(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="pre/a.txt", Body=b"A")
    s3.put_object(Bucket=BUCKET, Key="pre/b.txt", Body=b"B")
    url = _presigned(s3, "get_object", "pre/a.txt")
    assert httpx.get(url).content == b"A"
    # another key
    r = httpx.get(url.replace("pre/a.txt", "pre/b.txt"))
    assert (r.status_code, _xml_code(r)) == (403, "SignatureDoesNotMatch")
    # another method
    r = httpx.put(url, content=b"overwrite")
    assert (r.status_code, _xml_code(r)) == (403, "SignatureDoesNotMatch")
    # a longer life
    longer = re.sub(r"X-Amz-Expires=\d+", "X-Amz-Expires=604800", url)
    assert longer != url
    r = httpx.get(longer)
    assert (r.status_code, _xml_code(r)) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=BUCKET, Key="pre/a.txt")["Body"].read() == b"A"
    # expired: signed for one second, used after it
    short = _presigned(s3, "get_object", "pre/a.txt", expires=1)
    time.sleep(2.5)
    r = httpx.get(short)
    assert r.status_code == 403 and _xml_code(r) == "AccessDenied"
    assert b"expired" in r.content


def test_a_put_cut_short_by_the_client_stores_nothing(aws_node: RunningNode, s3: Any) -> None:
    # adversarial review: a PUT whose body ended before its Content-Length was stored
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(_presigned(s3, "put_object", "short.txt"))
    with socket.create_connection(("127.0.0.1", aws_node.port), timeout=60) as sock:
        sock.sendall(
            f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Length: 100\r\n\r\nabc".encode()
        )
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=BUCKET, Key="short.txt")
    assert err.value.response["Error"]["Code"] in ("404", "NoSuchKey")


def test_unsupported_operations_are_named(s3: Any) -> None:
    calls = {
        "CreateBucket": lambda: s3.create_bucket(Bucket="newbucket"),
        "DeleteBucket": lambda: s3.delete_bucket(Bucket=BUCKET),
        "ListBuckets": lambda: s3.list_buckets(),
        "PutBucketVersioning": lambda: s3.put_bucket_versioning(
            Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
        ),
        "GetObjectAcl": lambda: s3.get_object_acl(Bucket=BUCKET, Key="k"),
        "PutObjectTagging": lambda: s3.put_object_tagging(
            Bucket=BUCKET, Key="k", Tagging={"TagSet": []}
        ),
        "ListObjects": lambda: s3.list_objects(Bucket=BUCKET),
    }
    for name, call in calls.items():
        code, err = _code(call)
        assert code == "NotImplemented", (name, err)
        assert name in err["Message"], (name, err)


def test_multipart_errors(s3: Any) -> None:
    key = "mp/obj.bin"
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata={"m": "1"})
    uid = up["UploadId"]
    part1 = b"1" * (5 * 1024 * 1024)
    e1 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, e1, len(part1)),
        (2, e2, 4),
    ]

    def complete(parts: list[dict[str, Any]]) -> Any:
        return s3.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}
        )

    wrong = '"' + "0" * 32 + '"'
    assert _code(lambda: complete([{"PartNumber": 1, "ETag": wrong}]))[0] == "InvalidPart"
    assert _code(lambda: complete([{"PartNumber": 3, "ETag": e2}]))[0] == "InvalidPart"
    order = [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]
    assert _code(lambda: complete(order))[0] == "InvalidPartOrder"
    small = [{"PartNumber": 2, "ETag": e2}]
    assert _code(lambda: s3.head_object(Bucket=BUCKET, Key=key))[0] == "404"
    done = complete([{"PartNumber": 1, "ETag": e1}, *small])
    assert done["ETag"].endswith('-2"')
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == part1 + b"tail" and got["Metadata"] == {"m": "1"}
    # completed: the upload and its parts are gone
    assert _code(lambda: s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid))[0] == "NoSuchUpload"
    # aborted: gone too
    uid2 = s3.create_multipart_upload(Bucket=BUCKET, Key="mp/aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="mp/aborted", UploadId=uid2, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mp/aborted", UploadId=uid2)
    assert (
        _code(
            lambda: s3.upload_part(
                Bucket=BUCKET, Key="mp/aborted", UploadId=uid2, PartNumber=2, Body=b"y"
            )
        )[0]
        == "NoSuchUpload"
    )
    # an upload id of another key is no upload of this one
    uid3 = s3.create_multipart_upload(Bucket=BUCKET, Key="mp/three")["UploadId"]
    assert (
        _code(
            lambda: s3.upload_part(
                Bucket=BUCKET, Key="mp/other", UploadId=uid3, PartNumber=1, Body=b""
            )
        )[0]
        == "NoSuchUpload"
    )


def test_keys_with_odd_characters(s3: Any) -> None:
    for key in ("odd/a b+c?d=e&f#g%h.txt", "odd/ünï/cødé", "odd/~tilde'quote"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == key.encode()
        s3.copy_object(Bucket=BUCKET, Key=key + ".copy", CopySource={"Bucket": BUCKET, "Key": key})
        assert s3.get_object(Bucket=BUCKET, Key=key + ".copy")["Body"].read() == key.encode()
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix="odd/")["Contents"]]
    assert listed == sorted(listed) and "odd/a b+c?d=e&f#g%h.txt" in listed


def test_delete_objects_reports_each_key(s3: Any) -> None:
    for k in ("del/1", "del/2"):
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
    out = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "del/1"}, {"Key": "del/2"}, {"Key": "del/3"}]}
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["del/1", "del/2", "del/3"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="del/")["KeyCount"] == 0


def test_declared_bucket_without_objects_exists_unknown_does_not(s3: Any) -> None:
    # "other" is named by s3user's role; nothing is in it yet
    assert _code(lambda: s3.get_object(Bucket="other", Key="nothing"))[0] == "NoSuchKey"
    s3.put_object(Bucket="other", Key="first", Body=b"1")
    assert s3.get_object(Bucket="other", Key="first")["Body"].read() == b"1"


def test_aws_chunked_bodies_over_the_real_endpoint(
    aws_node: RunningNode, app: dict[str, Any]
) -> None:
    """What botocore sends over HTTPS (unsigned chunks + CRC32 trailer) and signed chunks."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from ramparts.aws.s3.chunked import ChunkSigner
    from tests.aws.conftest import function_credentials

    class Marked(S3SigV4Auth):
        """botocore's signer, with the payload marker S3 streaming puts in place of a hash."""

        def __init__(self, marker: str) -> None:
            super().__init__(cred, "s3", creds["Region"])
            self.marker = marker

        def payload(self, request: Any) -> str:
            return self.marker

    creds = function_credentials(aws_node, "s3user", "files")
    cred = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])
    data = os.urandom(70_000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    def send(key: str, body: bytes, sha: str, extra: dict[str, str]) -> httpx.Response:
        url = f"{creds['Endpoint']}/{BUCKET}/{key}"
        headers = {
            "x-amz-content-sha256": sha,
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            **extra,
        }
        req = AWSRequest("PUT", url, headers=headers, data=body)
        Marked(sha).add_auth(req)
        return httpx.put(url, headers=dict(req.headers.items()), content=body), req

    def unsigned(trailer: str) -> bytes:
        halves = [data[:40_000], data[40_000:]]
        out = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in halves)
        return out + b"0\r\n" + trailer.encode() + b"\r\n\r\n"

    sha = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    trailer = {"x-amz-trailer": "x-amz-checksum-crc32"}
    r, _ = send("ch/unsigned", unsigned(f"x-amz-checksum-crc32:{crc}"), sha, trailer)
    assert r.status_code == 200, r.text
    s3 = boto_client(aws_node, "s3", "s3user", app="files", config=S3_CONFIG)
    assert s3.get_object(Bucket=BUCKET, Key="ch/unsigned")["Body"].read() == data
    r, _ = send("ch/badcrc", unsigned("x-amz-checksum-crc32:AAAAAA=="), sha, trailer)
    assert (r.status_code, _xml_code(r)) == (400, "BadDigest")
    r, _ = send("ch/notrailer", unsigned(""), sha, trailer)  # declared, then left out
    assert (r.status_code, _xml_code(r)) == (400, "IncompleteBody")

    # signed chunks: the seed is the request's own signature
    def signed_body(seed: str, amz_date: str, tamper: bool) -> bytes:
        from ramparts.aws.sigv4 import signing_key

        scope_date = amz_date[:8]
        signer = ChunkSigner(
            signing_key(creds["SecretAccessKey"], scope_date, creds["Region"], "s3"),
            amz_date,
            f"{scope_date}/{creds['Region']}/s3/aws4_request",
            seed,
        )
        out, prev = b"", seed
        for chunk in (data[:65536], data[65536:], b""):
            sig = signer.sign(prev, chunk)
            sent = chunk.replace(b"\x00", b"\x01") if tamper and chunk else chunk
            out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(chunk), sig.encode(), sent)
            prev = sig
        return out

    for key, tamper, expected in (("ch/signed", False, 200), ("ch/tampered", True, 403)):
        # sign the headers first (the body length is known in advance), then build the body
        length = len(signed_body("0" * 64, "20250101T000000Z", False))
        url = f"{creds['Endpoint']}/{BUCKET}/{key}"
        headers = {
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "content-length": str(length),
        }
        req = AWSRequest("PUT", url, headers=headers, data=b"")
        Marked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").add_auth(req)
        seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
        body = signed_body(seed, req.headers["X-Amz-Date"], tamper)
        r = httpx.put(url, headers=dict(req.headers.items()), content=body)
        assert r.status_code == expected, r.text
    assert s3.get_object(Bucket=BUCKET, Key="ch/signed")["Body"].read() == data
    assert _code(lambda: s3.head_object(Bucket=BUCKET, Key="ch/tampered"))[0] == "404"


def test_handler_uses_s3_the_documented_way(aws_node: RunningNode, app: dict[str, Any]) -> None:
    r = aws_node.control.post(
        "/v1/functions/app-fn/invoke",
        json={"event": {"op": "roundtrip", "key": "docs/big.bin", "size": 16 * 1024 * 1024}},
        timeout=180,
    )
    assert r.status_code == 200, r.text
    out = r.json().get("result") or r.json()
    assert out.get("same") is True, {k: out.get(k) for k in ("error_type", "error_message", "logs")}
    s3 = boto_client(aws_node, "s3", "s3user", app="files", config=S3_CONFIG)
    stored = s3.get_object(Bucket=BUCKET, Key="docs/big.bin")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == out["sha256"]
    assert s3.head_object(Bucket=BUCKET, Key="docs/big.bin")["ETag"].endswith('-2"')
    # a presigned URL made inside the sandbox works from here
    s3.put_object(Bucket=BUCKET, Key="docs/shared.txt", Body=b"shared")
    r = aws_node.control.post(
        "/v1/functions/app-fn/invoke",
        json={"event": {"op": "presign", "method": "get_object", "key": "docs/shared.txt"}},
    )
    assert r.status_code == 200, r.text
    url = r.json()["result"]["url"]
    assert "X-Amz-Signature=" in url
    got = httpx.get(url)
    assert (got.status_code, got.content) == (200, b"shared")
    r = aws_node.control.post(
        "/v1/functions/app-fn/invoke",
        json={"event": {"op": "presign", "method": "put_object", "key": "docs/put.txt"}},
    )
    url = r.json()["result"]["url"]
    assert httpx.put(url, content=b"from outside").status_code == 200
    assert s3.get_object(Bucket=BUCKET, Key="docs/put.txt")["Body"].read() == b"from outside"


def test_a_multipart_upload_survives_a_node_restart(
    aws_node: RunningNode, app: dict[str, Any]
) -> None:
    s3 = boto_client(aws_node, "s3", "s3user", app="files", config=S3_CONFIG)
    key = "restart/obj.bin"
    first = os.urandom(5 * 1024 * 1024)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    e1 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=first)["ETag"]
    aws_node.stop()
    aws_node.start()
    s3 = boto_client(aws_node, "s3", "s3user", app="files", config=S3_CONFIG)
    e2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=2, Body=b"end")["ETag"]
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == first + b"end"


def test_a_role_in_aws_names_decides_the_same(
    aws_node: RunningNode, app: dict[str, Any], s3: Any
) -> None:
    named = boto_client(aws_node, "s3", "aws-named", app="files", config=S3_CONFIG)
    named.put_object(Bucket=BUCKET, Key="aws/x.txt", Body=b"x")
    assert named.get_object(Bucket=BUCKET, Key="aws/x.txt")["Body"].read() == b"x"
    assert named.list_objects_v2(Bucket=BUCKET, Prefix="aws/")["KeyCount"] == 1
    assert _code(lambda: named.put_object(Bucket=BUCKET, Key="not-aws/x", Body=b"x"))[0] == (
        "AccessDenied"
    )
    assert _code(lambda: named.delete_object(Bucket=BUCKET, Key="aws/x.txt"))[0] == ("AccessDenied")
    # a bucket named only by an AWS ARN in the role exists (empty)
    assert _code(lambda: named.get_object(Bucket="awsonly", Key="none"))[0] == "NoSuchKey"


def test_size_limits(aws_node: RunningNode, app: dict[str, Any], s3: Any) -> None:
    # 64 MiB is the store's limit through S3; one byte more is EntityTooLarge, nothing stored
    code, _ = _code(
        lambda: s3.put_object(Bucket=BUCKET, Key="lim/huge", Body=b"\0" * (64 * 1024 * 1024 + 1))
    )
    assert code == "EntityTooLarge"
    assert _code(lambda: s3.head_object(Bucket=BUCKET, Key="lim/huge"))[0] == "404"
    # an object above context.objects' 10 MiB is refused there with a clear code, not a crash
    s3.put_object(Bucket=BUCKET, Key="lim/11mib", Body=b"1" * (11 * 1024 * 1024))
    s3.put_object(Bucket=BUCKET, Key="lim/small", Body=b"1" * 1024)
    r = aws_node.control.post(
        "/v1/functions/app-fn/invoke", json={"event": {"op": "native_get", "key": "lim/11mib"}}
    )
    assert r.json()["result"]["code"] == "object_too_large", r.text
    r = aws_node.control.post(
        "/v1/functions/app-fn/invoke", json={"event": {"op": "native_get", "key": "lim/small"}}
    )
    assert r.json()["result"] == {"size": 1024}, r.text


def test_bad_input_is_a_named_error(s3: Any) -> None:
    code, _ = _code(lambda: s3.list_objects_v2(Bucket=BUCKET, ContinuationToken="garbage!"))
    assert code == "InvalidArgument"
    code, _ = _code(lambda: s3.get_object(Bucket=BUCKET, Key="k" * 1025))
    assert code == "KeyTooLongError"
    code, _ = _code(lambda: s3.put_object(Bucket=BUCKET, Key="ctl/\x01", Body=b""))
    assert code == "InvalidArgument"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="bad/mp")["UploadId"]
    code, _ = _code(
        lambda: s3.complete_multipart_upload(
            Bucket=BUCKET, Key="bad/mp", UploadId=uid, MultipartUpload={"Parts": []}
        )
    )
    assert code == "MalformedXML"
    code, _ = _code(
        lambda: s3.upload_part(
            Bucket=BUCKET, Key="bad/mp", UploadId=uid, PartNumber=10001, Body=b""
        )
    )
    assert code == "InvalidArgument"
