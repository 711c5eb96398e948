"""Types shared by the host side of the runtime and the rest of the node.

Kept free of heavy imports: the sandboxed worker imports this module too.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

InvocationStatus = Literal["ok", "error", "timeout", "crashed", "throttled"]


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the supervisor needs to run one immutable function version."""

    app: str
    function: str
    version: str  # content hash (hex); immutable
    code_dir: Path  # the version's unpacked code; the handler path is relative to it
    handler: str  # "path/to/file.py:function" or Lambda's "module.function"
    deps_dir: Path | None = None  # pip --target dir of this version's own requirements
    timeout: float = 30.0  # seconds
    memory_mb: int = 128
    concurrency: int = 4  # max simultaneous workers of this version on one node
    environment: dict[str, str] = field(default_factory=dict)
    # variable -> secret name: resolved with the function's role when a zygote starts,
    # never stored here (see Supervisor's ``secret_environment``)
    secret_environment: dict[str, str] = field(default_factory=dict)
    runtime_protection: str = "block"
    egress: tuple[str, ...] = ()  # allowlist entries, validated by the manifest
    allow_exec: tuple[str, ...] = ()  # executables, relative to the code dir
    tmp_mb: int = 512
    limits: dict[str, int] = field(default_factory=dict)  # processes, open_files, file_size
    anomaly_window: tuple[float, int] = (86400.0, 1000)  # seconds and invocations to learn

    @property
    def key(self) -> str:
        return f"{self.function}@{self.version}"


@dataclass
class InvocationResult:
    """What came back from one invocation (never raised: failures are data)."""

    request_id: str
    status: InvocationStatus
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None  # for the invocation log only, never for HTTP callers
    logs: str = ""
    duration_ms: float = 0.0
    cold: bool = False  # a new worker (or zygote) was started for this call
    # The OpenTelemetry trace this invocation belongs to (32 hex digits), set by the node
    # when tracing is on (``--otlp-endpoint``); None when it is off.  Logs read it here.
    trace_id: str | None = None
    # Set on a refusal by an exhausted invocation budget (status "throttled", error_type
    # "BudgetExhausted"): whole seconds until the budget's window resets.
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class HostCalls(Protocol):
    """The host-side resource broker as the supervisor sees it.

    Called for every ``context.kv/objects/publish/invoke/secrets`` call a
    handler makes.  Returns a JSON-able value (bytes travel as
    ``{"$b64": "..."}``), or raises a ``RampartsError`` (``AccessDenied``,
    ``NotFound``, ``InvalidRequest``...) which the worker re-raises in the
    handler with the same code.
    """

    def __call__(
        self, spec: FunctionSpec, request_id: str, op: str, args: dict[str, Any]
    ) -> Awaitable[Any]: ...
