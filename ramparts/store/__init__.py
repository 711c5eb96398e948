"""State backends, chosen by URL: ``sqlite:///path`` (embedded default) or ``postgresql://``."""

from __future__ import annotations

from ramparts.config import mask_url
from ramparts.errors import ConfigError
from ramparts.store.base import ObjectRecord, OutboxEntry, Store, VersionRecord

__all__ = ["ObjectRecord", "OutboxEntry", "Store", "VersionRecord", "open_store"]

_SCHEMES: dict[str, str] = {}


def _register(module: str, *schemes: str) -> None:
    for scheme in schemes:
        if scheme in _SCHEMES:
            raise ConfigError(f"state scheme {scheme!r} registered twice")
        _SCHEMES[scheme] = module


_register("sql", "sqlite", "postgresql", "postgres")


def open_store(url: str) -> Store:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in _SCHEMES or "://" not in url:
        raise ConfigError(
            f"unknown state store URL {mask_url(url)!r}; use one of: "
            + ", ".join(f"{s}://" for s in sorted(_SCHEMES))
        )
    from ramparts.store.sql import SQLStore

    return SQLStore(url)
