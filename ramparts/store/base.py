"""The state-store contract.

The state store holds everything a node needs that is not an in-flight event:
the registry (functions, immutable versions, artifacts, aliases and their
history), the built-in KV tables and object store, invocation records, the
append-only audit table, schedule-tick claims and the transactional outbox.
Nodes are stateless, so every node of a cluster shares one store.

Guarantees every backend gives:

* writes are durable when the method returns;
* a KV or object write and the change events it produces are committed in one
  transaction (the outbox), so a crash can never keep one without the other;
* ``claim_schedule_tick`` returns True for exactly one caller per
  (function, trigger, tick) across the cluster;
* ``audit_events`` is append-only: there is no method that updates or deletes.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VersionRecord:
    function: str
    version: str
    seq: int
    app: str
    artifact: str  # content hash of the code archive
    requirements: str | None  # hash of the requirements file, or None
    config: dict[str, Any]  # the function's manifest section, as validated
    created_at: float
    # The app's ``auth:`` section this version was deployed with (None: none).  Part of
    # the version: identity reads it from here, never from a file shared by digest.
    auth: dict[str, Any] | None = None
    # ``ed25519:<key id>:<base64>`` over the version's digest and manifest
    # (``ramparts.registry.signing``); None for a version from before signing.
    signature: str | None = None
    # The app's ``waf:`` and ``app_limits:`` sections this version was deployed with
    # (``Manifest.app_config``); None: the app set neither, and the defaults apply.
    app_config: dict[str, Any] | None = None
    # SHA-256 of the version's CycloneDX SBOM (``ramparts.registry.sbom``), stored by
    # ``SupplyChainStore``; None for a version deployed before SBOMs were recorded.
    sbom: str | None = None


@dataclass(frozen=True)
class ObjectRecord:
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str
    updated_at: float
    # user metadata (S3's ``x-amz-meta-*``, names lower-cased); empty for objects without
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadRecord:
    """A multipart upload in progress (S3's CreateMultipartUpload until Complete or Abort)."""

    upload_id: str
    bucket: str
    key: str
    content_type: str
    metadata: dict[str, str]
    created_at: float


@dataclass(frozen=True)
class PartRecord:
    number: int
    size: int
    etag: str  # MD5 hex of the part's plaintext


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    queue: str
    body: bytes
    headers: dict[str, str]
    message_id: str


KvRef = tuple[str, str]  # (table, key)


@dataclass
class KvChange:
    """What one ``kv_atomic`` step writes: new values (None deletes) and their change events."""

    writes: dict[KvRef, bytes | None] = field(default_factory=dict)
    events: list[OutboxEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Collected:
    """What one garbage collection of the registry removed, and what stays referenced."""

    versions: list[VersionRecord]
    artifacts: list[str]  # digests of code archives deleted
    kept_artifacts: set[str]  # digests still named by a version
    kept_requirements: set[str]  # dependency digests still named by a version


class VersionCollector(abc.ABC):
    """Optional store capability: drop versions no alias points to, after a retention."""

    @abc.abstractmethod
    def collect_versions(self, cutoff: float) -> Collected:
        """Delete, in one transaction, every version that no alias points to and that
        has had none since before ``cutoff`` (or was created before it, if it never
        lost one), with its alias history; then every archive no version names that
        was last stored before ``cutoff``.  Bumps the registry generation if anything
        went.  Aliased versions are never touched, however old.
        """


class AlertStore(abc.ABC):
    """Optional store capability: alerts raised by detection rules (``ramparts.respond``).

    Alerts are mutable only in their ``count``, ``last_ts`` and ``evidence`` (a
    suppressed flood adds to the open alert); the records they cite stay in the
    append-only audit table.
    """

    @abc.abstractmethod
    def add_alerts(self, rows: list[dict[str, Any]]) -> None: ...
    @abc.abstractmethod
    def update_alerts(self, rows: list[dict[str, Any]]) -> None:
        """Set ``count``, ``last_ts`` and ``evidence`` of the alerts with these ids."""

    @abc.abstractmethod
    def list_alerts(
        self, since: float, severities: list[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """Alerts first raised at or after ``since``, newest first."""


@dataclass(frozen=True)
class BlockRecord:
    """One entry of the WAF's run-time block list (``ramparts waf block``).

    ``network`` is canonical CIDR text (``203.0.113.0/24``, ``2001:db8::/32``);
    ``expires_at`` None blocks until an unblock.  ``actor`` is who the admin
    client said it was (recorded, not trusted: the principal is the admin
    token) and ``source_ip`` the address the admin request came from.
    """

    network: str
    created_at: float
    expires_at: float | None
    reason: str
    actor: str
    source_ip: str
    node: str


class BlockListStore(abc.ABC):
    """Optional store capability: the WAF's run-time block list, shared by every node.

    Every change bumps a generation counter of its own (not the registry's),
    which nodes poll several times a second to reload the list: reading it must
    stay a single-row lookup.  Expired entries may stay stored until
    ``block_prune``; readers must compare ``expires_at`` themselves.
    """

    @abc.abstractmethod
    def block_put(self, record: BlockRecord) -> bool:
        """Add ``record``, replacing an entry for the same network; True if one was replaced."""

    @abc.abstractmethod
    def block_delete(self, network: str, now: float) -> BlockRecord | None:
        """Remove the entry for ``network``; the removed one if it was still in force."""

    @abc.abstractmethod
    def block_list(self) -> list[BlockRecord]:
        """Every stored entry, expired ones included, oldest first."""

    @abc.abstractmethod
    def block_count(self, now: float) -> int:
        """Entries still in force at ``now``."""

    @abc.abstractmethod
    def block_prune(self, now: float) -> list[BlockRecord]:
        """Delete entries that expired before ``now``; the deleted ones."""

    @abc.abstractmethod
    def block_generation(self) -> int:
        """A counter that changes whenever the list does."""
class BudgetStore(abc.ABC):
    """Optional store capability: invocation budget usage and overrides (``ramparts.budget``).

    Usage rows are counters per scope (``function:NAME`` or ``app:NAME``) and
    fixed window (``h:YYYYMMDDHH`` or ``d:YYYYMMDD``, UTC); every node adds its
    batched deltas, so nodes sharing a store count together.
    """

    @abc.abstractmethod
    def budget_add(self, rows: list[dict[str, Any]]) -> None:
        """Add ``invocations`` and ``compute_ms`` to each ``(scope, window)`` row, atomically.

        Each row also carries ``ends_at``, the window's end (for pruning).
        """

    @abc.abstractmethod
    def budget_usage(self, windows: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
        """(scope, window) -> (invocations, compute_ms) for every scope in these windows."""

    @abc.abstractmethod
    def budget_mark(self, scope: str, window: str, what: str, ends_at: float = 0.0) -> bool:
        """Record that ``what`` happened once in this window; False if it already was."""

    @abc.abstractmethod
    def budget_overrides(self) -> dict[str, dict[str, int]]:
        """scope -> the budget fields an admin set (``ramparts budget set``)."""

    @abc.abstractmethod
    def budget_set_override(self, scope: str, fields: dict[str, int] | None) -> None:
        """Store the override of ``scope`` (None: drop it, back to the manifest's)."""

    @abc.abstractmethod
    def budget_prune(self, before: float) -> None:
        """Drop usage rows and marks of windows that ended before ``before``."""


class SupplyChainStore(abc.ABC):
    """Each version's SBOM document, and the advisories already reported against it.

    An SBOM is written with its version in ``commit_deploy`` (one transaction) and
    dropped with it by garbage collection.  ``advisory_hits_add`` inserts each
    (function, version, advisory) once across the cluster and returns only the rows
    that were new, so exactly one caller reports a new hit.
    """

    @abc.abstractmethod
    def get_sbom(self, function: str, version: str) -> bytes | None: ...
    @abc.abstractmethod
    def advisory_hits_add(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert rows (function, version, advisory, package, at); return the new ones."""


class MultipartStore(abc.ABC):
    """Optional store capability: multipart uploads whose parts survive a restart.

    Parts are kept apart from objects until the upload completes (the caller
    then writes the assembled object with ``object_put`` and drops the upload)
    or is aborted; ``upload_delete`` removes an upload and all its parts.
    """

    @abc.abstractmethod
    def upload_create(self, app: str, upload: UploadRecord) -> None: ...
    @abc.abstractmethod
    def upload_get(self, app: str, upload_id: str) -> UploadRecord | None: ...
    @abc.abstractmethod
    def upload_list(self, app: str, bucket: str, limit: int) -> list[UploadRecord]: ...
    @abc.abstractmethod
    def upload_delete(self, app: str, upload_id: str) -> bool:
        """Remove the upload and its parts; False when there was none."""

    @abc.abstractmethod
    def part_put(
        self, app: str, upload_id: str, number: int, data: bytes, *, size: int, etag: str
    ) -> None:
        """Store (or replace) part ``number``; ``size``/``etag`` describe the plaintext."""

    @abc.abstractmethod
    def part_get(self, app: str, upload_id: str, number: int) -> bytes | None: ...
    @abc.abstractmethod
    def part_list(self, app: str, upload_id: str) -> list[PartRecord]:
        """The upload's parts, by number."""


class Store(abc.ABC):
    """A state backend, chosen by URL (see ``ramparts.store.open_store``)."""

    # registry --------------------------------------------------------------------------
    @abc.abstractmethod
    def put_artifact(self, digest: str, data: bytes) -> None: ...
    @abc.abstractmethod
    def get_artifact(self, digest: str) -> bytes: ...
    @abc.abstractmethod
    def get_version(self, function: str, version: str) -> VersionRecord | None: ...
    @abc.abstractmethod
    def list_versions(self, function: str) -> list[VersionRecord]: ...
    @abc.abstractmethod
    def list_functions(self) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def commit_deploy(
        self,
        app: str,
        versions: list[VersionRecord],
        sboms: dict[tuple[str, str], bytes] | None = None,
    ) -> list[VersionRecord]:
        """Insert new versions and point each function's ``live`` alias at them, atomically.

        Versions that already exist are not inserted again; the alias still moves.
        Returns the stored records (with their sequence numbers).
        """

    @abc.abstractmethod
    def sign_version(
        self,
        function: str,
        version: str,
        *,
        artifact: str,
        auth: dict[str, Any] | None,
        signature: str,
    ) -> bool:
        """Sign a version that has no signature yet (a migration or a redeploy of it).

        Returns False, changing nothing, when the version is already signed: a
        signature, once written, is never replaced.
        """

    @abc.abstractmethod
    def has_signed_versions(self) -> bool:
        """Whether any version carries a signature."""

    @abc.abstractmethod
    def get_alias(self, function: str, name: str) -> str | None: ...
    @abc.abstractmethod
    def list_aliases(self, function: str) -> dict[str, str]: ...
    @abc.abstractmethod
    def set_alias(self, function: str, name: str, version: str) -> str | None:
        """Point an alias at a version; return the previous target."""

    @abc.abstractmethod
    def rollback_target(self, function: str, name: str) -> tuple[str, str]:
        """What ``rollback_alias`` would move, changing nothing: (from_version, to_version);
        the same ``NotFound`` when there is none (a playbook dry run's "would fail")."""

    @abc.abstractmethod
    def rollback_alias(self, function: str, name: str) -> tuple[str, str]:
        """Move an alias back to the target it had before its current one, atomically.

        Returns (from_version, to_version); raises ``NotFound`` when there is none.
        """

    @abc.abstractmethod
    def generation(self) -> int:
        """A counter that grows on every registry change (nodes poll it)."""

    # KV ------------------------------------------------------------------------------
    @abc.abstractmethod
    def kv_put(
        self, app: str, table: str, key: str, value: bytes, events: list[OutboxEntry]
    ) -> bytes | None:
        """Store a value; return the previous one.  ``events`` join the same transaction."""

    @abc.abstractmethod
    def kv_get(self, app: str, table: str, key: str) -> bytes | None: ...
    @abc.abstractmethod
    def kv_delete(
        self, app: str, table: str, key: str, events: list[OutboxEntry]
    ) -> bytes | None: ...
    @abc.abstractmethod
    def kv_query(
        self, app: str, table: str, prefix: str, limit: int
    ) -> list[tuple[str, bytes]]: ...

    @abc.abstractmethod
    def kv_atomic(
        self,
        app: str,
        refs: list[KvRef],
        step: Callable[[dict[KvRef, bytes | None]], KvChange],
    ) -> None:
        """Read ``refs``, let ``step`` decide, write what it returns: one transaction.

        No other ``kv_atomic`` on any of ``refs`` (on any node sharing the store)
        runs between the read and the write, so conditional writes decide on the
        value they replace.  ``step`` may run more than once (a backend retries a
        lost race) and must be a pure function of what it is given; an exception
        from it rolls everything back and propagates.  ``step`` may only write
        ``refs``.
        """

    # objects --------------------------------------------------------------------------
    @abc.abstractmethod
    def object_put(
        self,
        app: str,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str,
        events: list[OutboxEntry],
        *,
        size: int | None = None,
        etag: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectRecord:
        """Store an object; ``size``/``etag`` describe the plaintext when ``data`` is sealed.

        ``metadata`` (user metadata) replaces the object's previous metadata.
        """

    @abc.abstractmethod
    def object_get(self, app: str, bucket: str, key: str) -> tuple[ObjectRecord, bytes] | None: ...
    @abc.abstractmethod
    def object_delete(
        self, app: str, bucket: str, key: str, events: list[OutboxEntry]
    ) -> ObjectRecord | None: ...
    @abc.abstractmethod
    def object_list(
        self, app: str, bucket: str, prefix: str, limit: int, *, after: str = ""
    ) -> list[ObjectRecord]:
        """Objects whose key starts with ``prefix`` and sorts after ``after``, by key."""

    # outbox ----------------------------------------------------------------------------
    @abc.abstractmethod
    def outbox_take(self, limit: int) -> list[OutboxEntry]: ...
    @abc.abstractmethod
    def outbox_delete(self, seqs: list[int]) -> None: ...
    @abc.abstractmethod
    def add_outbox(self, events: list[OutboxEntry]) -> None: ...

    # records ---------------------------------------------------------------------------
    @abc.abstractmethod
    def add_invocations(self, rows: list[dict[str, Any]]) -> None: ...
    @abc.abstractmethod
    def list_invocations(
        self,
        function: str,
        after: int,
        limit: int,
        *,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[dict[str, Any]]:
        """``function``'s records after seq ``after``, oldest first, at most ``limit``;
        optionally only one request id, or those started in [``since``, ``until``)."""

    @abc.abstractmethod
    def delete_invocations_before(self, cutoff: float, limit: int) -> int:
        """Delete at most ``limit`` invocation records started before ``cutoff`` (unix
        seconds), in one transaction; return how many went.  Retention calls it until
        it returns less than ``limit``; an index on the start time keeps it cheap."""
    @abc.abstractmethod
    def add_audit_events(self, rows: list[dict[str, Any]]) -> None: ...
    @abc.abstractmethod
    def list_audit_events(self, after: int, limit: int) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def add_dead_letter(self, row: dict[str, Any]) -> None: ...
    @abc.abstractmethod
    def list_dead_letters(self, function: str | None, limit: int) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def claim_schedule_tick(self, function: str, trigger: str, tick: float) -> bool: ...
    @abc.abstractmethod
    def list_apps(self) -> list[str]: ...

    # audit chain (ramparts.observe.chain): append-only but for whole-record pruning -----
    @abc.abstractmethod
    def append_audit_chain(self, rows: list[dict[str, Any]]) -> None:
        """Insert chained records in one transaction; a duplicate ``id`` or (partition, seq)
        refuses the whole batch (``BackendError``): a chain never forks."""

    @abc.abstractmethod
    def audit_head(self, partition: str) -> tuple[int, str] | None:
        """(seq, hash) of the partition's last record, None for an empty partition."""

    @abc.abstractmethod
    def audit_last_signed(self, partition: str, limit: int = 2) -> list[tuple[int, str]]:
        """(seq, hash) of the partition's newest signed records (checkpoints and anchors),
        newest first."""

    @abc.abstractmethod
    def audit_records_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored chain records among ``ids`` (a journal replay skips them), by id."""

    @abc.abstractmethod
    def audit_partitions(self) -> list[str]: ...

    @abc.abstractmethod
    def audit_unchained(self) -> int:
        """How many rows predate the chain (no partition): reported, never verified."""

    @abc.abstractmethod
    def audit_unchained_inserted(self, limit: int = 10) -> list[int]:
        """Store (listing) seqs of rows with no partition that were written after the first
        chained row still stored: no node writes such rows once chaining began, so they
        were inserted behind its back."""

    @abc.abstractmethod
    def audit_chain_page(
        self, partition: str, after_seq: int, limit: int, *, through: int | None = None
    ) -> list[dict[str, Any]]:
        """Records after ``after_seq`` in seq order, ``detail`` as the stored JSON text."""

    @abc.abstractmethod
    def audit_span(self, t_from: float, t_to: float) -> dict[str, tuple[int, int]]:
        """Per partition, the (first, last) seq of records with ``t_from <= ts <= t_to``."""

    @abc.abstractmethod
    def audit_prune_point(self, partition: str, cutoff: float) -> tuple[int, str] | None:
        """The last seq (and its hash) before the partition's first record at or after
        ``cutoff``; None when nothing is that old."""

    @abc.abstractmethod
    def audit_delete_through(self, partition: str, through: int) -> int:
        """Delete the partition's records with seq <= ``through``; how many went."""

    @abc.abstractmethod
    def close(self) -> None: ...
