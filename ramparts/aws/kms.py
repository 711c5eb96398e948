"""KMS (awsJson 1.1, ``TrentService.*``): Encrypt, Decrypt, GenerateDataKey, DescribeKey.

Handlers encrypt their own sensitive fields with per-app keys that never
leave the host (:mod:`ramparts.crypto.appkeys`): the worker sends plaintext
and gets a ciphertext blob back, or the reverse, and the key stays sealed in
the node's keyring.

Keys are named.  ``KeyId`` is ``alias/NAME`` (or its ARN
``arn:aws:kms:REGION:ACCOUNT:alias/NAME``), or the key's id, a UUID derived
from the app and the name (or its ARN ``...:key/UUID``), as ``DescribeKey``
and every answer's ``KeyId`` show it.  The first ``Encrypt`` or
``GenerateDataKey`` that names ``alias/NAME`` creates that key, the way an
S3 bucket appears with its first object here; ``Decrypt`` and
``DescribeKey`` never create one (``NotFoundException``).  So no manifest
field is needed, and a mistyped alias creates a key that nothing can
decrypt with, never reaches another key.

Authorization: ``kms:Encrypt`` / ``kms:Decrypt`` / ``kms:GenerateDataKey``
/ ``kms:DescribeKey`` (the native names equal the AWS ones) on
``arn:ramparts:kms:APP:key/NAME`` (short form ``key:NAME``: the key's name,
not its UUID), checked and audited by the broker before any key is created
or used.  A ciphertext made by another app never decrypts here
(``InvalidCiphertextException``: its key is not among the caller's), nor
does one presented with another ``EncryptionContext``.

Not supported (``UnsupportedOperation``): key management (CreateKey,
aliases, grants, key policies, rotation of app keys), asymmetric keys, MACs,
``ReEncrypt``, ``GenerateDataKeyWithoutPlaintext``.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
import weakref
from typing import TYPE_CHECKING, Any

from ramparts.aws import awsjson
from ramparts.aws.protocols import JSON_11, error_response, json_answer, unsupported
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.crypto.appkeys import (
    AppKey,
    AppKeys,
    blob_key_id,
    key_id_for,
    open_blob,
    seal_blob,
)
from ramparts.errors import AccessDenied, DecryptionError
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

ALGORITHM = "SYMMETRIC_DEFAULT"
MAX_PLAINTEXT = 4096
MAX_CIPHERTEXT = 6144
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
_KEY_ARN_RE = re.compile(
    r"^arn:aws:kms:(?P<region>[a-z0-9-]*):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<rest>.+)$"
)
_KEYS: weakref.WeakKeyDictionary[Any, AppKeys] = weakref.WeakKeyDictionary()


def app_keys(broker: Broker) -> AppKeys:
    """The node's app keys, in the state store the broker's sealed store wraps."""
    found = _KEYS.get(broker)
    if found is None:
        store: Any = broker.store
        sealer = getattr(store, "sealer", None)
        engine = getattr(store, "engine", None)
        if sealer is None or engine is None:
            raise AwsError("KMSInternalException", "KMS needs the node's encrypted SQL store", 500)
        found = _KEYS[broker] = AppKeys(engine, sealer)
    return found


def key_arn(caller: Caller, key_id: str) -> str:
    return f"arn:aws:kms:{caller.region}:{caller.account}:key/{key_id}"


def _not_found(key: str) -> AwsError:
    return AwsError("NotFoundException", f"Key '{key}' does not exist", 400)


def _invalid_ciphertext() -> AwsError:
    return AwsError("InvalidCiphertextException", "The ciphertext is not valid for this caller")


class KeyRef:
    """A parsed KeyId: a name (from an alias) or an id (a UUID)."""

    def __init__(self, name: str | None = None, key_id: str | None = None) -> None:
        self.name = name
        self.key_id = key_id


def parse_key_id(text: str, caller: Caller) -> KeyRef:
    """``alias/NAME``, a UUID, or either's ARN in the caller's account and region."""
    m = _KEY_ARN_RE.match(text)
    if m is not None:
        if m["account"] != caller.account:
            raise AccessDenied("kms", f"a key of account {m['account']}")
        if m["region"] != caller.region:
            raise _not_found(text)
        text = f"alias/{m['rest']}" if m["kind"] == "alias" else m["rest"]
    if text.startswith("alias/"):
        name = text[len("alias/") :]
        if name.startswith("aws/") or not KEY_NAME_RE.match(name):
            # AWS-managed keys (alias/aws/...) do not exist here; other names cannot.
            raise _not_found(text)
        return KeyRef(name=name)
    try:
        return KeyRef(key_id=str(uuid.UUID(text)))
    except ValueError:
        raise _not_found(text) from None


class KMS:
    name = "kms"
    protocol = "json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            op = awsjson.operation(request, "TrentService", "kms")
            params = awsjson.Params(awsjson.body(request))
            handler = {
                "Encrypt": self._encrypt,
                "Decrypt": self._decrypt,
                "GenerateDataKey": self._generate,
                "DescribeKey": self._describe,
            }.get(op)
            if handler is None:
                raise unsupported("kms", op)
            answer = await handler(request, broker, params)
            return json_answer(answer, request.request_id, content_type=JSON_11)
        except AwsError as exc:
            return error_response("json", exc, request.request_id, json_prefix="TrentService")

    # -- keys and the check ---------------------------------------------------------------------
    def _authorize(self, request: AwsRequest, broker: Broker, action: str, name: str) -> None:
        caller = request.caller
        try:
            broker.authorize(
                caller.spec,
                request.request_id,
                f"kms:{action}",
                resource_arn(caller.spec.app, "key", name),
            )
        except AccessDenied:
            raise self._denied(request, action, f"alias/{name}") from None

    @staticmethod
    def _denied(request: AwsRequest, action: str, key: str) -> AwsError:
        return AwsError(
            "AccessDeniedException",
            f"User: {request.caller.spec.function} is not authorized to perform: "
            f"kms:{action} on resource: {key}",
            400,
        )

    def _ref(self, request: AwsRequest, broker: Broker, action: str, key_text: str) -> KeyRef:
        try:
            return parse_key_id(key_text, request.caller)
        except AccessDenied:
            caller = request.caller
            broker.audit.emit(
                "resource.access",
                decision="deny",
                principal=f"function:{caller.spec.function}@{caller.spec.version[:12]}",
                action=f"kms:{action}",
                resource=key_text,
                request_id=request.request_id,
                reason="other_account",
            )
            raise self._denied(request, action, key_text) from None

    async def _key(
        self, request: AwsRequest, broker: Broker, action: str, key_text: str, *, create: bool
    ) -> AppKey:
        """The authorized key named by ``key_text``, created by name when ``create``."""
        ref = self._ref(request, broker, action, key_text)
        keys = app_keys(broker)
        app = request.caller.spec.app
        if ref.name is not None:
            self._authorize(request, broker, action, ref.name)
            if create:
                return await asyncio.to_thread(keys.get_or_create, app, ref.name)
            found = await asyncio.to_thread(keys.by_name, app, ref.name)
        else:
            found = await asyncio.to_thread(keys.by_id, app, ref.key_id or "")
            if found is not None:
                self._authorize(request, broker, action, found.name)
        if found is None:
            raise _not_found(key_text)
        return found

    @staticmethod
    def _algorithm(params: awsjson.Params) -> None:
        algorithm = params.string("EncryptionAlgorithm", max_len=64)
        if algorithm not in (None, ALGORITHM):
            raise awsjson.validation(f"EncryptionAlgorithm must be {ALGORITHM}")

    # -- operations -------------------------------------------------------------------------------
    async def _encrypt(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        key_text = params.required_string("KeyId")
        plaintext = params.blob("Plaintext", required=True, max_bytes=MAX_PLAINTEXT) or b""
        context = params.string_map("EncryptionContext")
        self._algorithm(params)
        key = await self._key(request, broker, "Encrypt", key_text, create=True)
        return {
            "CiphertextBlob": awsjson.b64(seal_blob(key, plaintext, context)),
            "KeyId": key_arn(request.caller, key.key_id),
            "EncryptionAlgorithm": ALGORITHM,
        }

    async def _generate(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        key_text = params.required_string("KeyId")
        spec = params.string("KeySpec", max_len=16)
        count = params.integer("NumberOfBytes", low=1, high=1024)
        context = params.string_map("EncryptionContext")
        if (spec is None) == (count is None):
            raise awsjson.validation("Specify exactly one of KeySpec and NumberOfBytes")
        if spec is not None:
            sizes = {"AES_256": 32, "AES_128": 16}
            if spec not in sizes:
                raise awsjson.validation("KeySpec must be AES_256 or AES_128")
            count = sizes[spec]
        key = await self._key(request, broker, "GenerateDataKey", key_text, create=True)
        data_key = os.urandom(count or 32)
        return {
            "CiphertextBlob": awsjson.b64(seal_blob(key, data_key, context)),
            "Plaintext": awsjson.b64(data_key),
            "KeyId": key_arn(request.caller, key.key_id),
        }

    async def _decrypt(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        blob = params.blob("CiphertextBlob", required=True, max_bytes=MAX_CIPHERTEXT) or b""
        key_text = params.string("KeyId", max_len=2048)
        context = params.string_map("EncryptionContext")
        self._algorithm(params)
        try:
            blob_id = blob_key_id(blob)
        except DecryptionError:
            raise _invalid_ciphertext() from None
        caller = request.caller
        if key_text is not None:
            ref = self._ref(request, broker, "Decrypt", key_text)
            named = ref.key_id
            if ref.name is not None:
                named = key_id_for(caller.spec.app, ref.name)
            if named != blob_id:
                raise AwsError(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify the key that encrypted the "
                    "ciphertext",
                )
        key = await asyncio.to_thread(app_keys(broker).by_id, caller.spec.app, blob_id)
        if key is None:
            # Another app's blob (its key is not the caller's) or a forged one.
            raise _invalid_ciphertext()
        self._authorize(request, broker, "Decrypt", key.name)
        try:
            plaintext = open_blob(key, blob, context)
        except DecryptionError:
            raise _invalid_ciphertext() from None
        return {
            "KeyId": key_arn(caller, key.key_id),
            "Plaintext": awsjson.b64(plaintext),
            "EncryptionAlgorithm": ALGORITHM,
        }

    async def _describe(
        self, request: AwsRequest, broker: Broker, params: awsjson.Params
    ) -> dict[str, Any]:
        key_text = params.required_string("KeyId")
        key = await self._key(request, broker, "DescribeKey", key_text, create=False)
        caller = request.caller
        return {
            "KeyMetadata": {
                "AWSAccountId": caller.account,
                "KeyId": key.key_id,
                "Arn": key_arn(caller, key.key_id),
                "CreationDate": key.created_at,
                "Enabled": True,
                "Description": f"Ramparts app key {key.name}",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyState": "Enabled",
                "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER",
                "CustomerMasterKeySpec": ALGORITHM,
                "KeySpec": ALGORITHM,
                "EncryptionAlgorithms": [ALGORITHM],
                "MultiRegion": False,
            }
        }
