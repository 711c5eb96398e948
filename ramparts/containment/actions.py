"""Containment: the response actions a node performs, for the control API and playbooks alike.

Each action changes shared state through the service that owns it (the
quarantine list, identity records, the WAF block list, the secret store, the
registry's aliases), so it takes effect on every node of a cluster, and each is
audited here, once, whoever asked: an operator (principal ``admin``) or a
playbook (principal ``playbook:NAME``).  Bad parameters raise ``InvalidRequest``
or ``NotFound`` with a stable code and change nothing.

It reaches the node's services through ``Services`` (the node is one), so the
node can import it without a circle.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import time
from typing import Any, Protocol

from ramparts.config import trusted_proxies
from ramparts.errors import Conflict, InvalidRequest, NotFound
from ramparts.gateway.blocklist import MAX_BLOCKS
from ramparts.gateway.netset import InvalidNetwork, parse_network
from ramparts.gateway.waf_net import loopback_or_self
from ramparts.manifest import NAME_RE, parse_rate
from ramparts.store.base import BlockRecord


class Services(Protocol):
    """What the actions use of a node (``ramparts.node.Node`` provides it)."""

    store: Any
    audit: Any
    quarantines: Any
    identity: Any
    blocklist: Any
    vault: Any
    settings: Any
    supervisor: Any

    async def refresh(self, force: bool = False) -> None: ...


MAX_REASON = 500


def _reason(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str) or len(text) > MAX_REASON:
        raise InvalidRequest(f"reason: at most {MAX_REASON} characters", code="invalid_reason")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidRequest("reason: no control characters", code="invalid_reason")
    return text.strip()


def _limits(rate: Any, concurrency: Any) -> tuple[str | None, int | None]:
    """Checked lowered limits: ``rate`` normalised (``10/minute``), ``concurrency`` 1-10000."""
    if rate is None and concurrency is None:
        raise InvalidRequest("give rate, concurrency or both", code="invalid_argument")
    if rate is not None:
        try:
            amount, unit = parse_rate(rate)
        except ValueError as exc:
            raise InvalidRequest(f"rate: {exc}", code="invalid_rate") from None
        rate = f"{amount}/{unit}"
    if concurrency is not None and (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= 10_000
    ):
        raise InvalidRequest("concurrency: a number from 1 to 10000", code="invalid_argument")
    return rate, concurrency


def _key_id(key_id: Any) -> str:
    if not isinstance(key_id, str) or not key_id:
        raise InvalidRequest("key: an API key id is required", code="invalid_argument")
    return key_id.removeprefix("rk_")


def _no_key(key_id: str) -> NotFound:
    return NotFound(f"no API key {key_id!r}", code="api_key_not_found")


def _client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not client_id:
        raise InvalidRequest("client: an OAuth2 client id is required", code="invalid_argument")
    return client_id


def _no_client(client_id: str) -> NotFound:
    return NotFound(f"no client {client_id!r}", code="client_not_found")


def _network(address: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(address, str):
        raise InvalidRequest("address: an IP address or CIDR block", code="invalid_cidr")
    try:
        return parse_network(address)
    except InvalidNetwork as exc:
        raise InvalidRequest(f"address: {exc}", code="invalid_cidr") from None


class Containment:
    def __init__(self, node: Services) -> None:
        self._node = node

    def _function(self, name: Any) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise InvalidRequest("function: a function name is required", code="invalid_argument")
        if not any(f["name"] == name for f in self._node.store.list_functions()):
            raise NotFound(f"function {name!r} not found", code="function_not_found")
        return name

    def _alias(self, function: Any, alias: Any) -> tuple[str, str]:
        """``(function, alias)`` a rollback moves (the alias defaults to ``live``)."""
        name = self._function(function)
        alias = alias or "live"
        if not isinstance(alias, str) or not NAME_RE.match(alias):
            raise InvalidRequest("alias: an alias name", code="invalid_argument")
        return name, alias

    def _secret(self, app: Any, name: Any) -> str:
        """The app whose secret ``name`` ``app``'s functions read now: ``app`` itself, or
        the one app that shares its secret ``name`` with ``app`` (the same lookup as a
        function's read, ``SecretStore.resolve``).  ``secret_not_found`` when ``app`` reads
        none; ``secret_share_ambiguous`` when several apps share one with it (a function
        then reads none, and which one leaked cannot be told).  No value is opened."""
        if not isinstance(app, str) or not isinstance(name, str):
            raise InvalidRequest("app and secret names are required", code="invalid_argument")
        owners = self._node.vault.secrets.readers_view(name, app=app)
        if not owners:
            raise NotFound(f"secret {name!r} of app {app!r} not found", code="secret_not_found")
        if len(owners) > 1:
            raise Conflict(
                f"app {app!r} has no secret {name!r} of its own and apps "
                f"{', '.join(repr(o) for o in owners)} each share one with it, so it reads "
                "none of them; rotate the leaked one by naming its owner (app: OWNER)",
                code="secret_share_ambiguous",
            )
        return owners[0]

    def _reached(self, app: str, name: str, owner: str) -> dict[str, Any]:
        """What a rotation of ``app``'s secret ``name`` changes when ``owner`` shares it."""
        if owner == app:
            return {}
        readers = self._node.vault.secrets.describe(owner, name)["shared_with"]
        return {
            "owner": owner,
            "via": "share",
            "shared_with": readers,
            "note": (
                f"app {app!r} reads secret {name!r} through a share: app {owner!r}'s secret "
                f"is rotated, and every app it is shared with ({', '.join(readers)}) reads "
                "the new value"
            ),
        }

    # -- checks ------------------------------------------------------------------------
    async def check(self, kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Raise what the action ``kind`` with ``params`` would raise on this node now.

        Reads only: nothing changes, nothing is audited, no secret value is opened.
        It runs the same argument checks and target lookups as the action itself (an
        unknown function, API key, client or secret; a rollback with no earlier version;
        a ``block_ip`` the guard refuses or a full block list), so a dry run can say
        "would fail" with the action's own code and text.  State can change before an
        alert comes: passing is no promise.  Actions with nothing to look up pass.
        Returns what the action would reach beyond its parameters, when it would (a
        ``rotate_secret`` of a secret the app reads through a share: its owner), or None.
        """
        p = params
        if kind == "quarantine":
            await asyncio.to_thread(self._function, p.get("function"))
            _reason(p.get("reason"))
        elif kind in ("lower_rate", "lower_concurrency"):
            await asyncio.to_thread(self._function, p.get("function"))
            _limits(p.get("rate"), p.get("concurrency"))
        elif kind == "rollback":
            name, alias = await asyncio.to_thread(self._alias, p.get("function"), p.get("alias"))
            await asyncio.to_thread(self._node.store.rollback_target, name, alias)
        elif kind == "rotate_secret":
            app, name = p.get("app"), p.get("secret")
            owner = await asyncio.to_thread(self._secret, app, name)
            return await asyncio.to_thread(self._reached, app, name, owner) or None
        elif kind == "revoke_key":
            key_id = _key_id(p.get("key"))
            if await asyncio.to_thread(self._node.identity.records.get_api_key, key_id) is None:
                raise _no_key(key_id)
        elif kind == "revoke_client":
            client_id = _client_id(p.get("client"))
            rec = await asyncio.to_thread(self._node.identity.records.get_client, client_id)
            if rec is None or rec.deleted_at is not None:  # what delete_client refuses
                raise _no_client(client_id)
        elif kind == "block_ip":
            network = _network(p.get("address"))
            risk = self.block_risk(network)
            if risk is not None and not p.get("force"):
                raise InvalidRequest(f"{risk}; set force: true to block it", code="force_required")
            await self._room_for(network)
        return None

    # -- quarantine --------------------------------------------------------------
    async def quarantine(
        self, function: Any, reason: Any, *, principal: str, incident: str = ""
    ) -> dict[str, Any]:
        name = await asyncio.to_thread(self._function, function)
        why = _reason(reason)
        record = await self._node.quarantines.add(name, why, actor=principal, incident=incident)
        self._node.audit.emit(
            "respond.quarantine",
            decision="allow",
            principal=principal,
            action="respond:Quarantine",
            resource=f"function:{name}",
            function=name,
            quarantine_reason=why,
            incident=incident or None,
            severity="high",
        )
        return record.to_dict()

    async def release(self, function: Any, *, principal: str) -> dict[str, Any]:
        if not isinstance(function, str) or not NAME_RE.match(function):
            raise InvalidRequest("function: a function name is required", code="invalid_argument")
        record = await self._node.quarantines.release(function)
        self._node.audit.emit(
            "respond.release",
            decision="allow",
            principal=principal,
            action="respond:Release",
            resource=f"function:{function}",
            function=function,
            quarantined_at=record.created_at,
        )
        return {**record.to_dict(), "released": True}

    # -- lowered limits --------------------------------------------------------------
    async def lower(
        self,
        function: Any,
        *,
        rate: Any = None,
        concurrency: Any = None,
        principal: str,
        incident: str = "",
    ) -> dict[str, Any]:
        """Lower a function's rate and/or concurrency on top of its manifest's (every trigger)."""
        name = await asyncio.to_thread(self._function, function)
        rate, concurrency = _limits(rate, concurrency)
        record = await self._node.quarantines.lower(
            name, rate=rate, concurrency=concurrency, actor=principal, incident=incident
        )
        self._node.audit.emit(
            "respond.lower",
            decision="allow",
            principal=principal,
            action="respond:LowerLimits",
            resource=f"function:{name}",
            function=name,
            rate=record.rate,
            concurrency=record.concurrency,
            incident=incident or None,
        )
        return record.to_dict()

    async def restore(self, function: Any, *, principal: str) -> dict[str, Any]:
        if not isinstance(function, str) or not NAME_RE.match(function):
            raise InvalidRequest("function: a function name is required", code="invalid_argument")
        record = await self._node.quarantines.restore(function)
        self._node.audit.emit(
            "respond.restore",
            decision="allow",
            principal=principal,
            action="respond:RestoreLimits",
            resource=f"function:{function}",
            function=function,
        )
        return {**record.to_dict(), "restored": True}

    # -- credentials --------------------------------------------------------------
    async def revoke_key(self, key_id: Any, *, principal: str) -> dict[str, Any]:
        key_id = _key_id(key_id)
        records = self._node.identity.records
        rec = await asyncio.to_thread(records.revoke_api_key, key_id)
        if rec is None:
            raise _no_key(key_id)
        self._node.audit.emit(
            "identity.api_key.revoke",
            decision="allow",
            principal=principal,
            action="identity:RevokeApiKey",
            resource=f"api_key:{rec.id}",
        )
        return {"key": rec.id, "revoked": True}

    async def revoke_client(self, client_id: Any, *, principal: str) -> dict[str, Any]:
        client_id = _client_id(client_id)
        if not await asyncio.to_thread(self._node.identity.records.delete_client, client_id):
            raise _no_client(client_id)
        self._node.audit.emit(
            "identity.client.delete",
            decision="allow",
            principal=principal,
            action="identity:DeleteClient",
            resource=f"client:{client_id}",
        )
        return {"client": client_id, "revoked": True}

    # -- network --------------------------------------------------------------
    def block_risk(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
        """Why blocking ``network`` needs ``force`` on this node (loopback, a trusted proxy,
        too broad), or None: what ``block_ip`` refuses and a dry run marks ``refused``."""
        proxies = trusted_proxies(self._node.settings.forwarded_allow_ips)
        return loopback_or_self(network, "", proxies)

    async def _room_for(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
        """``too_many_blocks`` when the block list is full and ``network`` is not on it."""
        blocks = self._node.blocklist
        if await blocks.count() >= MAX_BLOCKS and all(
            r.network != str(network) for r in blocks.active()
        ):  # the same bound as ``waf block``: a playbook cannot grow the list past it either
            raise Conflict(
                f"the block list holds {MAX_BLOCKS} entries already; unblock some first",
                code="too_many_blocks",
            )

    async def block_ip(
        self,
        address: Any,
        *,
        for_seconds: float | None,
        reason: Any,
        principal: str,
        force: bool = False,
    ) -> dict[str, Any]:
        network = _network(address)
        risk = self.block_risk(network)
        if risk is not None and not force:
            self._node.audit.emit(
                "waf.block",
                decision="deny",
                principal=principal,
                action="waf:Block",
                resource=f"network:{network}",
                reason="force_required",
                risk=risk,
            )
            raise InvalidRequest(f"{risk}; set force: true to block it", code="force_required")
        await self._room_for(network)
        now = time.time()
        why = _reason(reason)
        record = BlockRecord(
            network=str(network),
            created_at=now,
            expires_at=now + for_seconds if for_seconds else None,
            reason=why,
            actor=principal,
            source_ip="",
            node=self._node.settings.node_id,
        )
        replaced = await self._node.blocklist.add(record)
        self._node.audit.emit(
            "waf.block",
            decision="allow",
            principal=principal,
            action="waf:Block",
            resource=f"network:{network}",
            expires_at=record.expires_at,
            block_reason=why,
            replaced=replaced,
            forced=bool(force and risk),
        )
        return {"cidr": str(network), "expires_at": record.expires_at, "replaced": replaced}

    # -- secrets and versions --------------------------------------------------------------
    async def rotate_secret(self, app: Any, name: Any, *, principal: str) -> dict[str, Any]:
        """A new random version (32 bytes, URL-safe text) of the secret ``name`` that
        ``app``'s functions read: its own, or, when it reads one through a share, the
        owner's (never a new secret in ``app``, which would hide the shared one from it and
        leave the leaked value in place).  The result and the audit record name the owner
        and ``via: share`` then, since another app's secret changed."""
        store = self._node.vault.secrets
        owner = await asyncio.to_thread(self._secret, app, name)
        reached = await asyncio.to_thread(self._reached, app, name, owner)
        version = await asyncio.to_thread(
            store.put, owner, name, secrets.token_urlsafe(32), source="rotate"
        )
        # as after `ramparts secrets set`: environments holding it restart, verifiers rebuild
        self._node.supervisor.renew_secret(name)
        self._node.identity.forget_secret(name)
        shared = (
            {"app": owner, "read_by": app, "via": "share", "shared_with": reached["shared_with"]}
            if reached
            else {}
        )
        self._node.audit.emit(
            "secrets.put",
            decision="allow",
            principal=principal,
            action="secrets:PutSecretValue",
            resource=f"secret:{owner}/{name}",
            version=version,
            purpose="incident-rotation",
            **shared,
        )
        if not reached:
            return {"app": app, "secret": name, "version": version}
        return {"app": app, "secret": name, "version": version, **reached}

    async def rollback(self, function: Any, alias: Any, *, principal: str) -> dict[str, Any]:
        name, alias = await asyncio.to_thread(self._alias, function, alias)
        before, after = await asyncio.to_thread(self._node.store.rollback_alias, name, alias)
        self._node.audit.emit(
            "registry.rollback",
            decision="allow",
            principal=principal,
            action="registry:Rollback",
            resource=f"function:{name}:{alias}",
            version=after[:12],
            previous=before[:12],
        )
        await self._node.refresh(force=True)
        return {"function": name, "alias": alias, "from": before, "to": after}
