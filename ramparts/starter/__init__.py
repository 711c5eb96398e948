"""Secure starting points: ``ramparts init NAME --template T`` writes a new app.

Each template (shipped package data under ``templates/``) is an app that passes
the deploy gate with no findings at all: a least-privilege role, private and
rate-limited routes, schemas on every trigger that takes input, secrets by
reference, a budget, a concurrency cap, runtime protection on, no egress, and
tests the user can run.  ``scaffold.py`` renders one into a directory.
"""

from __future__ import annotations

from ramparts.starter.scaffold import TEMPLATES, StarterError, create_app

__all__ = ["TEMPLATES", "StarterError", "create_app"]
