"""One authorized secret read for Secrets Manager and SSM, with the facts their answers show.

Both services read through ``Broker.secret_value``: the same role check
(``secrets:GetSecretValue`` on ``arn:ramparts:secrets:APP:secret/NAME``, which
a function's ``secrets:`` list or a role statement allows), the same audit
event and the same redaction as ``context.secrets.get``.  What this module
adds is what an AWS ARN can say that a ``context`` call cannot: an account
and a region.  An ARN naming another account (another app) is refused and
audited before anything is looked up; an ARN naming another region names
nothing here.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ramparts.aws.secretnames import SecretRef
from ramparts.aws.service import Caller
from ramparts.errors import AccessDenied, NotFound
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

_VERSION_NS = uuid.UUID("6f1c1a52-3c55-4a4e-9a57-2d1f0f3b7e10")
SECRET_ACTION = "secrets:GetSecretValue"  # noqa: S105 - an action name, not a password


class WrongRegion(Exception):
    """An ARN names a region other than the node's: nothing lives there."""


@dataclass(frozen=True)
class SecretRead:
    name: str
    value: str
    version: int
    created_at: float
    updated_at: float

    @property
    def version_id(self) -> str:
        return version_id(self.name, self.version)


def version_id(name: str, version: int) -> str:
    """AWS's VersionId is a UUID: ours is derived from the name and version number."""
    return str(uuid.uuid5(_VERSION_NS, f"{name}\x00{version}"))


def check_place(broker: Broker, caller: Caller, request_id: str, ref: SecretRef) -> None:
    """Refuse (and audit) an ARN of another account; ``WrongRegion`` for another region."""
    if ref.account not in (None, "", "*", caller.account):
        broker.audit.emit(
            "resource.access",
            decision="deny",
            principal=f"function:{caller.spec.function}@{caller.spec.version[:12]}",
            action=SECRET_ACTION,
            resource=resource_arn(caller.spec.app, "secret", ref.name),
            request_id=request_id,
            reason="other_account",
        )
        raise AccessDenied(SECRET_ACTION, f"secret {ref.name!r} of account {ref.account}")
    if ref.region not in (None, "", "*", caller.region):
        raise WrongRegion(ref.region)


def _metadata(broker: Broker, app: str, name: str) -> dict[str, Any] | None:
    store = broker.secrets
    resolve = getattr(store, "resolve", None)
    describe = getattr(store, "describe", None)
    if resolve is None or describe is None:
        return None  # a secret source without versions (tests inject one)
    owner = resolve(name, app=app)
    if owner is None:
        return None
    try:
        info: dict[str, Any] = describe(owner, name)
    except NotFound:
        return None
    return info


async def read_secret(broker: Broker, caller: Caller, request_id: str, name: str) -> SecretRead:
    """Authorize, audit and read; raises ``AccessDenied`` or ``NotFound`` like the broker."""
    value = await broker.secret_value(caller.spec, request_id, name)
    info = await asyncio.to_thread(_metadata, broker, caller.spec.app, name)
    if info is None:
        return SecretRead(name, value, 1, 0.0, 0.0)
    return SecretRead(
        name,
        value,
        int(info["current_version"]),
        float(info["created_at"]),
        float(info["updated_at"]),
    )
