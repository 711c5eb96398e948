"""The exception hierarchy of Ramparts.

Everything we raise derives from ``RampartsError``; library exceptions are
translated at the boundary with ``raise ... from exc``.  Each error carries a
stable ``code`` that the gateway and the control API put into JSON error
bodies, so callers can depend on it while the message may change.

    RampartsError
    ├── ConfigError                 bad settings or backend URL
    ├── ManifestError               ramparts.yaml invalid (file, field path, reason)
    ├── DeployError                 a deploy was refused (import error, pip failure, conflict)
    ├── NotFound                    unknown function, version, alias, route, object
    ├── Conflict                    a name or route already taken
    ├── InvalidRequest              malformed input from a caller
    ├── AccessDenied                the host refused a resource call (raised in handlers)
    ├── BackendError                a state or bus backend failed
    ├── StorageError                a file under the data dir cannot be created, read or written
    │   └── StorageFull             the data dir's disk is full (ENOSPC/EDQUOT): retry once freed
    ├── DataIntegrityError          a start-up or doctor check found damaged or lost data
    ├── InvocationError             a handler failed, timed out or its worker died
    ├── DecryptionError             a sealed record failed to open (tampered, moved, unknown key)
    ├── VersionIntegrityError       a version's signature, manifest or code does not verify
    ├── MasterKeyError              the master key is missing, unreadable, exposed or wrong
    └── SigningKeyError             the version-signing key is missing, altered or unopenable
"""

from __future__ import annotations

import errno


class RampartsError(Exception):
    """Root of every error Ramparts raises on purpose."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class ConfigError(RampartsError):
    code = "config_error"
    status = 400


class ManifestError(RampartsError):
    """A manifest failed validation; ``problems`` lists (field path, reason)."""

    code = "invalid_manifest"
    status = 422

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}: {path or '<root>'}: {reason}" for path, reason in problems]
        super().__init__("\n".join(lines))

    def to_dict(self) -> dict[str, object]:  # type: ignore[override]
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "problems": [{"field": p, "reason": r} for p, r in self.problems],
        }


class DeployError(RampartsError):
    code = "deploy_refused"
    status = 422


class NotFound(RampartsError):
    code = "not_found"
    status = 404


class Conflict(RampartsError):
    code = "conflict"
    status = 409


class InvalidRequest(RampartsError):
    code = "invalid_request"
    status = 400


class UnshippedEntries(InvalidRequest):
    """A deploy archive holds entries ``ramparts deploy`` never packs (``.git/``,
    ``.venv/``, tool caches, ``.pyc``): the gate would not scan them, so they are
    refused rather than installed unread."""

    code = "unshipped_entries"

    def __init__(self, entries: list[str]) -> None:
        self.entries = entries
        shown = ", ".join(repr(e) for e in entries[:10])
        more = f" and {len(entries) - 10} more" if len(entries) > 10 else ""
        super().__init__(
            f"the app archive holds entries ramparts deploy never ships and the scan never "
            f"reads: {shown}{more}; remove them (tool caches, virtualenvs, .git, compiled "
            ".pyc/.pyo files)"
        )

    def to_dict(self) -> dict[str, object]:  # type: ignore[override]
        return {"code": self.code, "message": self.message, "entries": self.entries}


class AccessDenied(RampartsError):
    """A resource call was refused by the function's role.

    Raised inside handlers; carries the action and resource and nothing more.
    """

    code = "access_denied"
    status = 403

    def __init__(self, action: str = "", resource: str = "") -> None:
        self.action = action
        self.resource = resource
        super().__init__(f"not authorized to perform {action} on {resource}")


class BackendError(RampartsError):
    code = "backend_unavailable"
    status = 503


class StorageError(RampartsError):
    """A file or directory the node needs cannot be created, read or written.

    The message names the path and the operating system's reason, never a traceback.
    """

    code = "storage_error"
    status = 500


class StorageFull(StorageError):
    """The data dir's file system has no space left; nothing half-written is kept.

    A 503: the request was fine and succeeds once space is freed.
    """

    code = "storage_full"
    status = 503


class DataIntegrityError(RampartsError):
    """An integrity check of the node's own files failed; the node refuses to start.

    ``problems`` holds one plain dict per failed check (file, check, detail,
    lost, advice), so the CLI and ``ramparts doctor --json`` can show them.
    """

    code = "data_integrity_failed"
    status = 500

    def __init__(self, message: str, problems: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.problems = problems


class InvocationError(RampartsError):
    code = "invocation_failed"
    status = 502


class DecryptionError(RampartsError):
    """A sealed record could not be opened; its plaintext is never returned.

    Raised for a flipped byte, a record copied to another resource (wrong
    AAD), a truncated or malformed record and an unknown key id alike.
    """

    code = "decryption_failed"
    status = 500


class VersionIntegrityError(DeployError):
    """A function version failed verification before its zygote started.

    Its signature is missing or wrong, its record was altered, or its code on
    disk no longer matches its digest.  ``code`` names which; the version is
    not run.
    """

    code = "version_unverified"
    status = 502


class MasterKeyError(ConfigError):
    """The node cannot obtain the right master key, so it refuses to start."""

    code = "master_key_error"
    status = 500


class SigningKeyError(ConfigError):
    """The version-signing key cannot be loaded or made, so the node refuses to start."""

    code = "signing_key_error"
    status = 500


class SandboxError(ConfigError):
    """A sandbox layer could not be set up; the node (or the zygote) fails closed."""

    code = "sandbox_unavailable"
    status = 500


class RuntimeViolation(RampartsError, PermissionError):
    """Raised inside a handler when runtime protection blocks what it tried to do.

    ``rule`` names the check (``process.spawn``, ``socket.connect``,
    ``native.load``, ``file.write``) and ``target`` what was refused.  It is
    also a ``PermissionError`` (EPERM), so library code that falls back when
    the OS refuses (``ctypes.util.find_library``, ``platform``) degrades the
    same way instead of failing.
    """

    code = "runtime_violation"
    status = 403

    def __init__(self, rule: str, target: str) -> None:
        super().__init__(f"runtime protection blocked {rule}: {target}")
        self.rule = rule
        self.target = target
        self.errno = errno.EPERM
