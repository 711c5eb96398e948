"""Credential checks: secrets not rotated, API keys without expiry or unused.

RP-A006 reads each active secret's last change (its ``updated_at``: a new
version through ``secrets set`` or ``rotate``); RP-A011 and RP-A012 read the
API-key records (never the hashes).  Revoked and expired keys are skipped:
they no longer open anything.  Not checked: whether the value of a secret
actually changed between versions, OAuth2 client secrets (they have no
last-use record), and keys of outside identity providers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ramparts.assess.audit.inputs import DAY, PostureInputs
from ramparts.assess.findings import Finding


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def check_secrets(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    limit = inputs.options.secret_max_age
    for row in inputs.secrets:
        if row.get("state") != "active":
            continue
        if inputs.options.app is not None and row["app"] != inputs.options.app:
            continue
        changed = float(row.get("updated_at") or row.get("created_at") or 0)
        age = (inputs.now - changed) / DAY
        if age > limit:
            found.append(
                Finding(
                    "RP-A006",
                    row["arn"],
                    f"version {row.get('current_version')} set {_day(changed)}, {age:.0f} days ago "
                    f"(limit {limit:g} days)",
                    row["app"],
                )
            )
    return found


def check_api_keys(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    idle_limit = inputs.options.key_max_idle
    for key in inputs.api_keys:
        if key.get("revoked_at") is not None:
            continue
        expires = key.get("expires_at")
        if expires is not None and expires <= inputs.now:
            continue
        resource = f"api_key:{key['prefix']} ({key['name']})"
        if expires is None:
            found.append(
                Finding(
                    "RP-A011",
                    resource,
                    f"created {_day(key['created_at'])} with no expiry",
                    key.get("app"),
                )
            )
        last = key.get("last_used_at")
        since = float(last if last is not None else key["created_at"])
        idle = (inputs.now - since) / DAY
        if idle > idle_limit:
            what = (
                f"last used {_day(since)}"
                if last is not None
                else (f"never used since created {_day(since)}")
            )
            found.append(
                Finding(
                    "RP-A012",
                    resource,
                    f"{what}, {idle:.0f} days ago (limit {idle_limit:g} days)",
                    key.get("app"),
                )
            )
    return found
