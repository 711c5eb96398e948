"""Event bus backends, chosen by URL.

The node opens one bus at start-up from its configured URL; the dispatcher
and the topic fan-out only ever see the ``Bus`` contract in ``base.py``.

=============================  ==========================================
URL                            backend
=============================  ==========================================
``embedded:///abs/path/bus.db`` SQLite durable queue, one node (default)
``redis://`` / ``rediss://``   Redis Streams with consumer groups
``nats://``                    NATS JetStream, durable pull consumers
=============================  ==========================================

Drivers are imported only when their scheme is opened, so the embedded
default needs neither ``redis`` nor ``nats-py`` installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from ramparts.bus._common import redact_url
from ramparts.bus.base import Bus, Message, OutgoingMessage
from ramparts.errors import ConfigError

__all__ = ["Bus", "Message", "OutgoingMessage", "known_schemes", "open_bus", "register_backend"]


@dataclass(frozen=True)
class _Backend:
    module: str  # "ramparts.bus.redis"
    attr: str  # "RedisBus"
    extra: str | None  # pip extra providing the driver; None for stdlib-only backends
    driver: str | None  # top-level module of the driver ("redis", "nats")


_REGISTRY: dict[str, _Backend] = {}


def register_backend(
    schemes: tuple[str, ...] | list[str],
    module: str,
    attr: str,
    *,
    extra: str | None = None,
    driver: str | None = None,
) -> None:
    """Serve ``schemes`` with ``module.attr``; a scheme can be registered only once.

    A later registration never silently takes over a scheme: that would let an
    import side effect reroute the node's events.
    """
    taken = [s for s in schemes if s in _REGISTRY]
    if taken:
        raise ConfigError(f"bus URL scheme(s) {', '.join(taken)} already registered")
    for scheme in schemes:
        _REGISTRY[scheme] = _Backend(module, attr, extra, driver)


register_backend(("embedded",), "ramparts.bus.embedded", "EmbeddedBus")
register_backend(
    ("redis", "rediss"), "ramparts.bus.redis", "RedisBus", extra="redis", driver="redis"
)
register_backend(("nats",), "ramparts.bus.nats", "NatsBus", extra="nats", driver="nats")


def known_schemes() -> list[str]:
    return sorted(_REGISTRY)


def missing_driver_message(scheme: str, extra: str, driver: str) -> str:
    """What to tell a user whose bus URL needs a driver that is not installed."""
    return (
        f"the {scheme}:// event bus needs the {driver!r} package, which is not installed;"
        f" install it with: pip install 'ramparts[{extra}]'"
    )


def open_bus(url: str, *, consumer: str | None = None) -> Bus:
    """Build (but do not connect) the bus backend for ``url``; then ``await bus.open()``.

    ``consumer`` is this node's lasting identity (kept in its data dir): a
    backend that tracks who holds which lease uses it, so a node restarted
    after a crash gets its own leases back at once.  Without one, each
    process is a new consumer.

    Raises:
        ConfigError: unknown scheme, malformed URL, or the driver is missing.
    """
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ConfigError(f"invalid bus URL {redact_url(url)!r}") from exc
    backend = _REGISTRY.get(scheme)
    if backend is None or "://" not in url:
        known = ", ".join(f"{s}://" for s in known_schemes())
        raise ConfigError(
            f"unknown event bus URL scheme {scheme or '(none)'!r} in {redact_url(url)!r};"
            f" known schemes: {known}"
        )
    try:
        module = importlib.import_module(backend.module)
    except ModuleNotFoundError as exc:
        # Only a missing *driver* is a config problem; a missing module of ours is a bug.
        if backend.driver and exc.name and exc.name.split(".")[0] == backend.driver:
            extra = backend.extra or backend.driver
            raise ConfigError(missing_driver_message(scheme, extra, backend.driver)) from exc
        raise
    cls: type[Bus] = getattr(module, backend.attr)
    if consumer is None:  # backends written before identities existed take only the URL
        return cls(url)  # type: ignore[call-arg]
    return cls(url, consumer=consumer)  # type: ignore[call-arg]
