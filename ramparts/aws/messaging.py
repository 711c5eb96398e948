"""What SQS, SNS, EventBridge and Lambda share: names, ARNs, message attributes.

A queue, an SNS topic and an event bus are all one Ramparts topic: sending
to any of them publishes to the topic of that name (``topics:Publish`` on
``topic:NAME``).  The names reach us inside queue URLs and ARNs that carry an
account id; that account must be the caller's own (``accounts.account_id``
of its app), so one app can never publish into another's topics by naming
its account.  Message attributes are checked here once, with the digest
SQS returns (``MD5OfMessageAttributes``) computed the way SQS documents it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any

from ramparts.aws.service import AwsError, Caller
from ramparts.manifest import RESOURCE_NAME_RE

MAX_ATTRIBUTES = 10
_ATTR_NAME = re.compile(r"^(?!aws\.|amazon\.)(?!\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$", re.IGNORECASE)
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,200})?$")


@dataclass(frozen=True)
class Attribute:
    """One message attribute as SQS and SNS accept it."""

    name: str
    data_type: str
    string: str | None = None
    binary: bytes | None = None

    def record(self) -> dict[str, Any]:
        """The attribute as a Lambda SQS record's ``messageAttributes`` entry shows it."""
        out: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": self.data_type,
        }
        if self.binary is not None:
            out["binaryValue"] = base64.b64encode(self.binary).decode()
        else:
            out["stringValue"] = self.string
        return out

    def sns(self) -> dict[str, Any]:
        """The attribute as an SNS notification's ``MessageAttributes`` entry shows it."""
        if self.binary is not None:
            return {"Type": self.data_type, "Value": base64.b64encode(self.binary).decode()}
        return {"Type": self.data_type, "Value": self.string}


def parse_attributes(raw: Any, *, error: str = "InvalidParameterValue") -> list[Attribute]:
    """``{"k": {"DataType": "String", "StringValue": "v"}}`` -> attributes, or an AwsError."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise AwsError(error, "MessageAttributes must be a map")
    if len(raw) > MAX_ATTRIBUTES:
        raise AwsError(
            error,
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}].",
        )
    out = []
    for name, value in raw.items():
        if not isinstance(name, str) or not _ATTR_NAME.match(name):
            raise AwsError(error, f"Message attribute name {str(name)[:64]!r} is invalid.")
        if not isinstance(value, dict):
            raise AwsError(error, f"Message attribute {name!r} must be a structure.")
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not _DATA_TYPE.match(data_type):
            raise AwsError(error, f"The message attribute {name!r} has an invalid data type.")
        if data_type.startswith("Binary"):
            blob = value.get("BinaryValue")
            if not isinstance(blob, str):
                raise AwsError(
                    error, f"The message attribute {name!r} must contain a binary value."
                )
            try:
                data = base64.b64decode(blob, validate=True)
            except (binascii.Error, ValueError):
                raise AwsError(error, f"The message attribute {name!r} is not base64.") from None
            out.append(Attribute(name, data_type, binary=data))
        else:
            text = value.get("StringValue")
            if not isinstance(text, str) or not text:
                raise AwsError(
                    error, f"The message attribute {name!r} must contain a non-empty value."
                )
            if data_type.startswith("Number"):
                try:
                    float(text)
                except ValueError:
                    raise AwsError(
                        error, f"The message attribute {name!r} is not a number."
                    ) from None
            out.append(Attribute(name, data_type, string=text))
    return out


def md5_of_attributes(attributes: list[Attribute]) -> str | None:
    """SQS's ``MD5OfMessageAttributes``: length-prefixed name, type, transport byte, value."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)

    def part(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)) + data)

    for attr in sorted(attributes, key=lambda a: a.name):
        part(attr.name.encode())
        part(attr.data_type.encode())
        if attr.binary is not None:
            digest.update(b"\x02")
            part(attr.binary)
        else:
            digest.update(b"\x01")
            part((attr.string or "").encode())
    return digest.hexdigest()


def md5_text(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def check_account(caller: Caller, account: str, what: str, code: str) -> None:
    """Refuse a URL or ARN naming another account than the caller's own app."""
    if account != caller.account:
        raise AwsError(code, f"{what} is not in account {caller.account}")


def check_name(name: str, what: str, code: str) -> str:
    if not RESOURCE_NAME_RE.match(name):
        raise AwsError(code, f"{what} {name[:128]!r} is not a valid name")
    return name


def parse_arn(arn: str, service: str, code: str) -> tuple[str, str, str]:
    """``arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`` -> (region, account, resource)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != service or not parts[5]:
        raise AwsError(code, f"Invalid parameter: {service} ARN {arn[:256]!r}")
    return parts[3], parts[4], parts[5]


def check_region(caller: Caller, region: str, code: str) -> None:
    if region not in (caller.region, ""):
        raise AwsError(code, f"region {region[:64]!r} is not this node's ({caller.region})")
