"""KMS over per-app keys in the node's keyring: round trips, contexts, other apps, policies."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import orjson
import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from ramparts.aws.accounts import account_id
from ramparts.aws.kms import KMS
from ramparts.crypto.appkeys import key_id_for, kms_app_keys_t
from tests.aws.host import REGION, Host, moto_client

MANIFEST = """
app: kms-app
functions:
  crypt:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kms:*"], resources: ["key:orders", "key:fresh*"]}
  encrypt-only:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kms:Encrypt", "kms:GenerateDataKey"],
           resources: ["key:*"]}
  nothing:
    handler: h.py:handler
"""
api = KMS()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def code(body: dict) -> str:
    return body["__type"].split("#")[-1]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    h = Host(tmp_path_factory.mktemp("kms"), MANIFEST)
    yield h
    h.close()


def call(host: Host, op: str, body: dict, function: str = "crypt", app: str | None = None):
    status, answer, rid = host.call(api, f"TrentService.{op}", body, function=function, app=app)
    return status, answer, rid


def test_encrypt_decrypt_round_trip_and_key_ids(host: Host) -> None:
    status, enc, _ = call(
        host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"card 4242")}
    )
    assert status == 200, enc
    kid = key_id_for("kms-app", "orders")
    arn = f"arn:aws:kms:{REGION}:{account_id('kms-app')}:key/{kid}"
    assert enc["KeyId"] == arn and enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = enc["CiphertextBlob"]
    assert b"card 4242" not in base64.b64decode(blob)
    for key in (
        None,
        "alias/orders",
        kid,
        arn,
        f"arn:aws:kms:{REGION}:{account_id('kms-app')}:alias/orders",
    ):
        body = {"CiphertextBlob": blob} | ({"KeyId": key} if key else {})
        status, dec, _ = call(host, "Decrypt", body)
        assert status == 200, (key, dec)
        assert base64.b64decode(dec["Plaintext"]) == b"card 4242" and dec["KeyId"] == arn
    # the key material is stored sealed, never as the raw key
    with host.raw.engine.begin() as conn:
        row = conn.execute(select(kms_app_keys_t)).first()
    assert row.material[:4] == b"RPE\x01"


def test_encryption_context_is_bound(host: Host) -> None:
    ctx = {"order": "o-1", "tenant": "t"}
    _, enc, _ = call(
        host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"x"), "EncryptionContext": ctx}
    )
    blob = enc["CiphertextBlob"]
    same = {"tenant": "t", "order": "o-1"}  # order of keys does not matter
    assert call(host, "Decrypt", {"CiphertextBlob": blob, "EncryptionContext": same})[0] == 200
    for wrong in ({}, {"order": "o-2", "tenant": "t"}, {**ctx, "extra": "1"}):
        body = {"CiphertextBlob": blob} | ({"EncryptionContext": wrong} if wrong else {})
        status, dec, _ = call(host, "Decrypt", body)
        assert (status, code(dec)) == (400, "InvalidCiphertextException"), wrong
        assert "Plaintext" not in dec


def test_tampered_and_foreign_blobs_never_decrypt(host: Host) -> None:
    _, enc, _ = call(host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"secret")})
    raw = bytearray(base64.b64decode(enc["CiphertextBlob"]))
    for i in (0, 5, 25, len(raw) - 1):
        bad = bytearray(raw)
        bad[i] ^= 1
        status, dec, _ = call(host, "Decrypt", {"CiphertextBlob": b64(bytes(bad))})
        assert code(dec) in ("InvalidCiphertextException", "AccessDeniedException"), i
        assert "Plaintext" not in dec
    assert code(call(host, "Decrypt", {"CiphertextBlob": b64(b"junk" * 10)})[1]) == (
        "InvalidCiphertextException"
    )
    # the same alias in another app is another key: our blob does not open there
    status, other, _ = host.call(
        api,
        "TrentService.Decrypt",
        {"CiphertextBlob": enc["CiphertextBlob"]},
        function="crypt",
        app="other-app",
    )
    assert code(other) == "InvalidCiphertextException" and "Plaintext" not in other


def test_wrong_key_id_for_a_blob(host: Host) -> None:
    _, enc, _ = call(host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"x")})
    status, dec, _ = call(
        host, "Decrypt", {"CiphertextBlob": enc["CiphertextBlob"], "KeyId": "alias/fresh-other"}
    )
    assert code(dec) == "IncorrectKeyException"


def test_generate_data_key_then_local_aes(host: Host) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    for spec, size in (
        ({"KeySpec": "AES_256"}, 32),
        ({"KeySpec": "AES_128"}, 16),
        ({"NumberOfBytes": 64}, 64),
    ):
        status, gen, _ = call(host, "GenerateDataKey", {"KeyId": "alias/orders", **spec})
        assert status == 200, gen
        plain = base64.b64decode(gen["Plaintext"])
        assert len(plain) == size
        _, dec, _ = call(host, "Decrypt", {"CiphertextBlob": gen["CiphertextBlob"]})
        assert base64.b64decode(dec["Plaintext"]) == plain
    sealed = AESGCM(plain[:32]).encrypt(b"\0" * 12, b"payload", None)
    assert AESGCM(base64.b64decode(dec["Plaintext"])[:32]).decrypt(b"\0" * 12, sealed, None)
    for bad in (
        {},
        {"KeySpec": "AES_256", "NumberOfBytes": 32},
        {"KeySpec": "RSA_2048"},
        {"NumberOfBytes": 0},
        {"NumberOfBytes": 1025},
    ):
        status, err, _ = call(host, "GenerateDataKey", {"KeyId": "alias/orders", **bad})
        assert (status, code(err)) == (400, "ValidationException"), bad


def test_describe_key_and_not_found(host: Host) -> None:
    call(host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"x")})
    status, desc, _ = call(host, "DescribeKey", {"KeyId": "alias/orders"})
    meta = desc["KeyMetadata"]
    assert meta["KeyId"] == key_id_for("kms-app", "orders")
    assert meta["AWSAccountId"] == account_id("kms-app") and meta["Enabled"] is True
    # Decrypt and DescribeKey never create a key
    assert code(call(host, "DescribeKey", {"KeyId": "alias/fresh-none"})[1]) == "NotFoundException"
    unknown = "11111111-2222-3333-4444-555555555555"
    assert code(call(host, "Encrypt", {"KeyId": unknown, "Plaintext": b64(b"x")})[1]) == (
        "NotFoundException"
    )
    for bad in ("alias/aws/s3", "alias/", "not-a-key", "alias/has space"):
        assert code(call(host, "DescribeKey", {"KeyId": bad})[1]) == "NotFoundException", bad


def test_policy_decides_and_audits(host: Host) -> None:
    status, err, rid = call(
        host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"x")}, function="nothing"
    )
    assert (status, code(err)) == (400, "AccessDeniedException")
    status, err, rid2 = call(host, "Encrypt", {"KeyId": "alias/payroll", "Plaintext": b64(b"x")})
    assert code(err) == "AccessDeniedException"
    with host.raw.engine.begin() as conn:  # a refused call creates no key
        names = [r.name for r in conn.execute(select(kms_app_keys_t.c.name))]
    assert "payroll" not in names
    _, enc, _ = call(
        host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"x")}, function="encrypt-only"
    )
    status, err, rid3 = call(
        host, "Decrypt", {"CiphertextBlob": enc["CiphertextBlob"]}, function="encrypt-only"
    )
    assert code(err) == "AccessDeniedException" and "Plaintext" not in err
    events = {e["request_id"]: e for e in host.audit_events()}
    assert (events[rid]["decision"], events[rid]["action"], events[rid]["resource"]) == (
        "deny",
        "kms:Encrypt",
        "arn:ramparts:kms:kms-app:key/orders",
    )
    assert events[rid2]["resource"] == "arn:ramparts:kms:kms-app:key/payroll"
    assert events[rid3]["action"] == "kms:Decrypt" and events[rid3]["decision"] == "deny"
    other = f"arn:aws:kms:{REGION}:{account_id('other-app')}:alias/orders"
    status, err, rid4 = call(host, "Encrypt", {"KeyId": other, "Plaintext": b64(b"x")})
    assert code(err) == "AccessDeniedException"
    assert host.audit_events()[-1]["detail"].get("reason") == "other_account"


@pytest.mark.parametrize(
    ("op", "raw", "expected"),
    [
        ("Encrypt", b"{}", "ValidationException"),
        ("Encrypt", b'{"KeyId": "alias/orders", "Plaintext": "%%%"}', "ValidationException"),
        (
            "Encrypt",
            orjson.dumps({"KeyId": "alias/orders", "Plaintext": b64(b"x" * 4097)}),
            "ValidationException",
        ),
        (
            "Encrypt",
            orjson.dumps(
                {"KeyId": "alias/orders", "Plaintext": b64(b"x"), "EncryptionContext": {"a": 1}}
            ),
            "ValidationException",
        ),
        ("Decrypt", b'{"CiphertextBlob": 5}', "ValidationException"),
        ("Decrypt", b"nope", "SerializationException"),
        ("CreateKey", b"{}", "UnsupportedOperation"),
        ("ReEncrypt", b"{}", "UnsupportedOperation"),
    ],
)
def test_bad_requests(host: Host, op: str, raw: bytes, expected: str) -> None:
    status, body, _ = host.call(api, f"TrentService.{op}", None, raw=raw, function="crypt")
    assert (status, code(body)) == (400, expected), body


def test_shapes_match_moto(host: Host, moto_server: str) -> None:
    client = moto_client(moto_server, "kms")
    key = client.create_key()["KeyMetadata"]["KeyId"]
    theirs = client.encrypt(KeyId=key, Plaintext=b"abc")
    theirs.pop("ResponseMetadata")
    _, ours, _ = call(host, "Encrypt", {"KeyId": "alias/orders", "Plaintext": b64(b"abc")})
    # real KMS also names EncryptionAlgorithm; moto leaves it out
    assert set(ours) - {"EncryptionAlgorithm"} == set(theirs) - {"EncryptionAlgorithm"}
    dec = client.decrypt(CiphertextBlob=theirs["CiphertextBlob"])
    dec.pop("ResponseMetadata")
    _, our_dec, _ = call(host, "Decrypt", {"CiphertextBlob": ours["CiphertextBlob"]})
    assert set(our_dec) - {"EncryptionAlgorithm"} == set(dec) - {"EncryptionAlgorithm"}
    gen = client.generate_data_key(KeyId=key, KeySpec="AES_256")
    gen.pop("ResponseMetadata")
    _, our_gen, _ = call(host, "GenerateDataKey", {"KeyId": "alias/orders", "KeySpec": "AES_256"})
    assert set(our_gen) <= set(gen)
    desc = client.describe_key(KeyId=key)["KeyMetadata"]
    _, our_desc, _ = call(host, "DescribeKey", {"KeyId": "alias/orders"})
    members = set(client.meta.service_model.shape_for("KeyMetadata").members)
    assert set(our_desc["KeyMetadata"]) <= members  # every field is one botocore knows
    assert {"KeyId", "Arn", "AWSAccountId", "Enabled", "KeyState"} <= set(desc) & set(
        our_desc["KeyMetadata"]
    )
    with pytest.raises(ClientError) as missing:
        client.describe_key(KeyId="alias/none")
    _, body, _ = call(host, "DescribeKey", {"KeyId": "alias/fresh-none"})
    assert code(body) == missing.value.response["Error"]["Code"]
    with pytest.raises(ClientError) as invalid:
        client.decrypt(CiphertextBlob=b"junk" * 10)
    _, body, _ = call(host, "Decrypt", {"CiphertextBlob": b64(b"junk" * 10)})
    assert code(body) == invalid.value.response["Error"]["Code"]
