"""Ramparts: a self-hosted, security-first platform for event-driven Python functions.

This module is imported inside sandboxed workers too, so it must stay light:
it exposes only the exceptions a handler may catch.
"""

from __future__ import annotations

from ramparts.errors import AccessDenied, RampartsError, RuntimeViolation

__version__ = "0.1.0"
__all__ = ["AccessDenied", "RampartsError", "RuntimeViolation", "__version__"]
